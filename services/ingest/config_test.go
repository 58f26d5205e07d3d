package ingest_test

import (
	"strings"
	"testing"

	"github.com/peonhq/peon/services/ingest"
)

// TestValidateReportsEveryProblem: one call names every bad field, and the
// defaults (and the zero value, which stands for them) are valid.
func TestValidateReportsEveryProblem(t *testing.T) {
	for _, ok := range []ingest.Config{ingest.DefaultConfig(), {}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	err := ingest.Config{Workers: -1, MaxBatch: 10_000, CommandTimeout: -1, MaxBackoff: -1}.Validate()
	if err == nil {
		t.Fatal("a config with four bad fields is valid")
	}
	for _, want := range []string{"workers -1", "max batch 10000", "command timeout -1ns", "max backoff -1ns"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ingest.New(nil, ingest.Config{Workers: -1}, nil); err == nil || !strings.Contains(err.Error(), "workers") {
		t.Errorf("New accepted a bad config: %v", err)
	}
}
