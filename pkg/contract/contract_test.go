package contract_test

import (
	"testing"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Every command the domain knows is served on exactly one subject.
func TestEveryCommandHasASubject(t *testing.T) {
	types := domain.CommandTypes()
	if len(contract.CommandEndpoints) != len(types) {
		t.Fatalf("%d endpoints for %d command types", len(contract.CommandEndpoints), len(types))
	}
	for _, typ := range types {
		if contract.CommandSubject(typ) == "" {
			t.Errorf("command %s has no subject", typ)
		}
	}
	for subject, typ := range map[string]string{
		"peon.cmd.thread.configure": domain.TypeConfigureThread,
		"peon.cmd.git.complete":     domain.TypeCompleteGitOperation,
	} {
		if got := contract.CommandSubject(typ); got != subject {
			t.Errorf("subject of %s = %q, want %s", typ, got, subject)
		}
	}
}

func TestStatusOfContract11Codes(t *testing.T) {
	for code, want := range map[domain.Code]int{
		domain.CodeGitOperationNotFound: 404,
		domain.CodeGitOperationFinished: 409,
	} {
		if got := contract.Status(code); got != want {
			t.Errorf("Status(%s) = %d, want %d", code, got, want)
		}
	}
}
