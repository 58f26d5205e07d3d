package domain_test

import (
	"errors"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

// The fuzz targets feed arbitrary bytes to every decoder of outside input.
// The property: never a panic, never an out-of-memory, and every failure is a
// *DeciderError (so the service can always answer with a code).

func FuzzDecodeCommand(f *testing.F) {
	types := sorted(domain.CommandTypes())
	for i, c := range oneOfEachCommand() {
		for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
			b, _ := domain.EncodeCommand(c, enc)
			f.Add(uint8(indexOf(types, c.CommandType())), uint8(enc), b)
		}
		_ = i
	}
	// Contract 1.1 shapes: bare and structured checkpoint files, a git
	// outcome, a configure with present-but-empty fields.
	for typ, doc := range map[string]string{
		domain.TypeCreateCheckpoint: `{"thread_id":"t","turn_id":"u","ref":"r","commit":"` + sha1 + `","files":["a.go",` +
			`{"path":"b","old_path":"c","kind":"renamed","additions":1,"deletions":2,"binary":true}]}`,
		domain.TypeCompleteGitOperation: `{"thread_id":"t","operation_id":"o","status":"failed","error":"fatal: not a git repository"}`,
		domain.TypeConfigureThread:      `{"thread_id":"t","title":"","runtime_mode":"full-access"}`,
	} {
		f.Add(uint8(indexOf(types, typ)), uint8(domain.JSON), []byte(doc))
		f.Add(uint8(indexOf(types, typ)), uint8(domain.MessagePack), jsonToMsgpack(f, []byte(doc)))
	}
	f.Add(uint8(0), uint8(domain.MessagePack), []byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(0), uint8(domain.MessagePack), []byte{0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(0), uint8(domain.MessagePack), []byte{0xc6, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, typ, enc uint8, data []byte) {
		name := types[int(typ)%len(types)]
		cmd, err := domain.DecodeCommand(name, data, domain.Encoding(enc%2), domain.DefaultMaxCommandBytes)
		if err != nil {
			var de *domain.DeciderError
			if !errors.As(err, &de) || cmd != nil {
				t.Fatalf("error %v (%T) is not a DeciderError", err, err)
			}
			return
		}
		// Whatever decodes must re-encode and decode to the same command.
		b, err := domain.EncodeCommand(cmd, domain.Encoding(enc%2))
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := domain.DecodeCommand(name, b, domain.Encoding(enc%2), 0); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	for _, e := range oneOfEach() {
		for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
			b, _ := domain.EncodeEvent(e, enc)
			f.Add(uint8(enc), b)
		}
	}
	// A CheckpointCreated of schema v1, which the upcaster rewrites.
	v1 := []byte(`{"type":"CheckpointCreated","v":1,"data":{"thread_id":"t","checkpoint_id":"c","turn_id":"u","ref":"r","files":["a.go"]}}`)
	f.Add(uint8(domain.JSON), v1)
	f.Add(uint8(domain.MessagePack), jsonToMsgpack(f, v1))
	f.Add(uint8(domain.MessagePack), []byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, enc uint8, data []byte) {
		e, err := domain.DecodeEvent(data, domain.Encoding(enc%2))
		if err != nil {
			var de *domain.DeciderError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a DeciderError", err, err)
			}
			return
		}
		// A decoded event folds without panicking.
		domain.Project(fold(withWork...), stored(100, e))
	})
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return 0
}
