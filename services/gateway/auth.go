package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/nats-io/nats.go"
)

// Identity is who the gateway acts as for a request: a NATS connection
// with that role's credentials. NATS permissions decide what it may do.
type Identity struct {
	// Role names the identity in logs and in /v1/whoami.
	Role string
	NC   *nats.Conn
	// ReadOnly identities may query and follow events but not send
	// commands (refused 403 before NATS is asked).
	ReadOnly bool
}

// Identities maps bearer tokens to identities.
type Identities struct {
	// Tokens maps a bearer token to the identity it acts as.
	Tokens map[string]*Identity
	// Loopback is the identity of token-less requests from a loopback
	// address, when Config.LoopbackWithoutToken allows them.
	Loopback *Identity
}

// tokenTable compares tokens in constant time: by the SHA-256 of each, so
// neither a token's length nor its bytes leak through timing.
type tokenTable struct {
	sums []([sha256.Size]byte)
	ids  []*Identity
}

func newTokenTable(tokens map[string]*Identity) *tokenTable {
	t := &tokenTable{}
	for tok, id := range tokens {
		t.sums = append(t.sums, sha256.Sum256([]byte(tok)))
		t.ids = append(t.ids, id)
	}
	return t
}

func (t *tokenTable) lookup(token string) *Identity {
	sum := sha256.Sum256([]byte(token))
	var found *Identity
	for i := range t.sums {
		if subtle.ConstantTimeCompare(sum[:], t.sums[i][:]) == 1 {
			found = t.ids[i]
		}
	}
	return found
}

// identify returns the identity a request acts as, or nil when it has none.
func (s *Service) identify(r *http.Request) *Identity {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil
		}
		return s.tokens.lookup(strings.TrimSpace(token))
	}
	if s.cfg.LoopbackWithoutToken && s.ids.Loopback != nil && isLoopback(r.RemoteAddr) {
		return s.ids.Loopback
	}
	return nil
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
