package gateway

import (
	"encoding/json"
	"net/http"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Codes the gateway itself answers with, beside the contract's.
const (
	codeUnauthorized domain.Code = "unauthorized"
	codeForbidden    domain.Code = "forbidden"
	codeNotFound     domain.Code = "not_found"
)

// httpStatus is the HTTP status of a contract code: the contract's own
// mapping (4xx permanent, 5xx transient), plus the gateway's codes.
func httpStatus(code domain.Code) int {
	switch code {
	case codeUnauthorized:
		return http.StatusUnauthorized
	case codeForbidden:
		return http.StatusForbidden
	case codeNotFound:
		return http.StatusNotFound
	}
	return contract.Status(code)
}

// writeError answers {"error": {"code", "message"}} with the code's status.
func writeError(w http.ResponseWriter, code domain.Code, message string) {
	writeJSONStatus(w, httpStatus(code), contract.ErrorBody{Error: contract.ErrorDetail{Code: string(code), Message: message}})
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
