package projector_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/domain"
)

func mustKV(t *testing.T, s *peontest.Stack, bucket string) jetstream.KeyValue {
	t.Helper()
	kv, err := s.JS.KeyValue(t.Context(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func wantCode(t *testing.T, err error, code domain.Code) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// startBare starts a stack without projectors.
func startBare(t *testing.T) *peontest.Stack {
	s := peontest.Start(t)
	s.WaitServing(t)
	return s
}
