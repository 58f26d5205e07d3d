package query

import (
	"errors"
	"testing"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// FuzzDecodeTurnDiff feeds arbitrary bytes to the two decoders turn.diff
// runs: the request's, and the stored record's (written by a host, so
// outside input too). Never a panic; a request error is a *DeciderError;
// a decoded record has a non-nil file list and counts at least the files
// it lists.
func FuzzDecodeTurnDiff(f *testing.F) {
	f.Add([]byte(`{"thread_id":"th1","turn_id":"tu1"}`))
	f.Add([]byte(`{"turn_id":"tu1","files":[{"path":"a.go","kind":"added","additions":3,"deletions":0}],"diff":"+x\n","truncated":false}`))
	f.Add([]byte(`{"turn_id":"tu1","files":["bare/path"],"diff":""}`))
	f.Add([]byte(`{"turn_id":"tu1","files":[{"path":"a","kind":"added"}],"extra":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var req contract.TurnDiff
		var de *domain.DeciderError
		if err := domain.DecodeRequest(domain.JSON, data, &req, 1<<20); err != nil && !errors.As(err, &de) {
			t.Fatalf("request error %v (%T) is not a DeciderError", err, err)
		}
		if reply, err := decodeDiffRecord(data); err == nil && (reply.Files == nil || reply.FilesTotal < len(reply.Files)) {
			t.Fatalf("decoded record %+v", reply)
		}
	})
}
