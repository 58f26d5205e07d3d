package gateway

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/peonhq/peon/internal/lifecycle"
	"github.com/peonhq/peon/internal/sysstatus"
	"golang.org/x/sync/errgroup"
)

//go:embed console
var consoleFiles embed.FS

// Service is one gateway instance.
type Service struct {
	cfg    Config
	ids    Identities
	tokens *tokenTable
	log    *slog.Logger
	ready  lifecycle.Ready
	// stopping is closed at shutdown, so open event streams end.
	stopping chan struct{}
	addr     chan string
}

// New returns a gateway acting as the given identities.
func New(cfg Config, ids Identities, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	if len(ids.Tokens) == 0 && (ids.Loopback == nil || !cfg.LoopbackWithoutToken) {
		return nil, errors.New("gateway config: no token configured, and token-less loopback access is off: nobody could use it")
	}
	for tok, id := range ids.Tokens {
		if len(tok) < 16 {
			return nil, fmt.Errorf("gateway config: the token of role %q is shorter than 16 characters", id.Role)
		}
	}
	return &Service{cfg: cfg, ids: ids, tokens: newTokenTable(ids.Tokens), log: log,
		stopping: make(chan struct{}), addr: make(chan string, 1)}, nil
}

// Ready is closed once the gateway listens.
func (s *Service) Ready() <-chan struct{} { return s.ready.Done() }

// Addr returns the address it listens on, once Ready.
func (s *Service) Addr() string {
	a := <-s.addr
	s.addr <- a
	return a
}

// Handler is the gateway's HTTP handler: the API and the console.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range Routes {
		pattern := rt.Method + " " + rt.Path
		switch {
		case rt.Path == "/v1/commands/{name}":
			mux.HandleFunc(pattern, s.command)
		case rt.Path == "/v1/events":
			mux.HandleFunc(pattern, s.allEvents)
		case rt.Path == "/v1/threads/{thread_id}/events":
			mux.HandleFunc(pattern, s.threadEvents)
		case rt.Path == "/v1/status":
			mux.HandleFunc(pattern, s.status)
		case rt.Query != "":
			mux.HandleFunc(pattern, s.queryHandler(rt))
		default:
			panic("gateway: route without a handler: " + pattern)
		}
	}
	mux.HandleFunc("GET /v1/whoami", s.whoami)
	mux.HandleFunc("GET /v1/openapi.yaml", serveOpenAPI)
	console, _ := fs.Sub(consoleFiles, "console")
	mux.Handle("GET /", http.FileServerFS(console))
	return s.cors(securityHeaders(mux))
}

// Run listens and serves until ctx is done, then lets requests finish
// (event streams are ended) for up to five seconds.
func (s *Service) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.addr <- ln.Addr().String()
	s.ready.Signal()
	s.log.Info("gateway serving", "url", "http://"+ln.Addr().String(), "instance", s.cfg.Instance)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		close(s.stopping)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

func (s *Service) whoami(w http.ResponseWriter, r *http.Request) {
	id := s.identify(r)
	if id == nil {
		s.unauthorized(w)
		return
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"role": id.Role, "read_only": id.ReadOnly})
}

// status serves GET /v1/status: the snapshot `peon status` prints.
func (s *Service) status(w http.ResponseWriter, r *http.Request) {
	id := s.identify(r)
	if id == nil {
		s.unauthorized(w)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	rep, err := sysstatus.Collect(ctx, id.NC)
	if err != nil {
		code, message := transportError(err, "status")
		writeError(w, code, message)
		return
	}
	writeJSONStatus(w, http.StatusOK, rep)
}

// cors answers cross-origin requests from the configured origins only; with
// none configured a browser on another origin gets no CORS headers, so it
// cannot read any reply.
func (s *Service) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && slices.Contains(s.cfg.CORSOrigins, origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders keeps the console to its own scripts and out of frames.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}
