package gateway

import (
	_ "embed"
	"net/http"
)

// openAPI is the API's OpenAPI 3.1 document, generated from Routes and the
// Go types by `go generate ./cmd/apidoc` (which writes docs/openapi.yaml and
// this copy; a test fails when either is stale).
//
//go:embed openapi.yaml
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPI)
}
