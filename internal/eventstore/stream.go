package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/pkg/contract"
)

// StreamConfig is what Peon needs of the event stream.
type StreamConfig struct {
	// Replicas is the stream's replication factor: 1 for a single server,
	// 3 on a cluster (the deploy configs use 3).
	Replicas int
	// DuplicateWindow is how long JetStream remembers Nats-Msg-Id values.
	DuplicateWindow time.Duration
	// MaxMsgSize bounds one event message.
	MaxMsgSize int32
	// Memory selects memory storage (tests and benchmarks only).
	Memory bool
}

// DefaultStreamConfig returns the settings for one server.
func DefaultStreamConfig() StreamConfig {
	return StreamConfig{Replicas: 1, DuplicateWindow: 2 * time.Minute, MaxMsgSize: 1 << 20}
}

func (c StreamConfig) jetstream() jetstream.StreamConfig {
	storage := jetstream.FileStorage
	if c.Memory {
		storage = jetstream.MemoryStorage
	}
	return jetstream.StreamConfig{
		Name:               contract.EventStream,
		Description:        "Peon events: one message per event; the stream sequence is the event sequence",
		Subjects:           []string{contract.EventSubjects},
		Retention:          jetstream.LimitsPolicy,
		Storage:            storage,
		Replicas:           c.Replicas,
		Duplicates:         c.DuplicateWindow,
		MaxMsgSize:         c.MaxMsgSize,
		DenyDelete:         true,
		AllowDirect:        true,
		AllowAtomicPublish: true,
		Discard:            jetstream.DiscardOld,
	}
}

// EnsureStream creates the event stream, or updates it to the wanted
// settings; running it again changes nothing. It needs admin rights.
func EnsureStream(ctx context.Context, js jetstream.JetStream, c StreamConfig) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, c.jetstream())
	if err != nil {
		return nil, fmt.Errorf("ensure stream %s: %w", contract.EventStream, err)
	}
	if err := checkStream(s.CachedInfo().Config); err != nil {
		return nil, err
	}
	return s, nil
}

// CheckStream verifies that the event stream exists with the settings the
// store relies on. Services that may not create streams call it at start.
func CheckStream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	var s jetstream.Stream
	err := retry.Startup.Until(ctx, retry.StartupPatience, retry.Missing, func() (err error) {
		s, err = js.Stream(ctx, contract.EventStream)
		return err
	})
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("stream %s does not exist (run `peon setup`): %w", contract.EventStream, err)
		}
		return nil, fmt.Errorf("look up stream %s: %w", contract.EventStream, err)
	}
	return s, checkStream(s.CachedInfo().Config)
}

// checkStream lists every setting that is off, at once.
func checkStream(cfg jetstream.StreamConfig) error {
	var problems []error
	if !cfg.AllowAtomicPublish {
		problems = append(problems, errors.New("atomic publish is not allowed"))
	}
	if !cfg.AllowDirect {
		problems = append(problems, errors.New("direct get is not allowed"))
	}
	if !cfg.DenyDelete {
		problems = append(problems, errors.New("message delete is not denied"))
	}
	if cfg.Duplicates <= 0 {
		problems = append(problems, errors.New("no duplicate window"))
	}
	if len(cfg.Subjects) != 1 || cfg.Subjects[0] != contract.EventSubjects {
		problems = append(problems, fmt.Errorf("subjects are %v, want [%s]", cfg.Subjects, contract.EventSubjects))
	}
	if cfg.Retention != jetstream.LimitsPolicy || cfg.MaxMsgs > 0 || cfg.MaxAge > 0 || cfg.MaxBytes > 0 {
		problems = append(problems, errors.New("limits would drop events (the stream must keep everything)"))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s: %w", ErrStreamSettings, contract.EventStream, errors.Join(problems...))
	}
	return nil
}
