package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// DevelopmentKey is the well-known access key of local Web PubSub emulators.
const DevelopmentKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"

// Options configures a Service. The zero value is a service with the
// development key that logs nothing.
type Options struct {
	AccessKey string       // "" means DevelopmentKey
	Logger    *slog.Logger // nil means discard
}

// Service is an in-memory Web PubSub service. It is an http.Handler serving
// the REST API under /api/ and client WebSockets under /client/. The caller
// should call Close when finished, to end the client connections.
type Service struct {
	key      string
	log      *slog.Logger
	upgrader websocket.Upgrader
	idSuffix string // the last 9 characters of every connection id

	// now tells the time that messageTtlSeconds is measured in. It is
	// time.Now, except in tests; it is set before the service serves.
	now func() time.Time

	// sockets counts the reader and writer goroutines of client sockets.
	sockets sync.WaitGroup

	// mu guards hubs and closing, and the groups and permissions of every
	// connection. It is taken before any connection's own mutex.
	mu      sync.RWMutex
	hubs    map[string]*hub // by hubKey
	closing bool
}

// New returns an in-memory service.
func New(opts Options) *Service {
	key := opts.AccessKey
	if key == "" {
		key = DevelopmentKey
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		key:      key,
		log:      logger,
		idSuffix: hex.EncodeToString(randomBytes(5))[:9],
		hubs:     map[string]*hub{},
		now:      time.Now,
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     func(*http.Request) bool { return true },
		Error:           s.upgradeError,
	}
	return s
}

// ServeHTTP serves the REST API, the health check and client connections.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case path == "/client" || strings.HasPrefix(path, "/client/"):
		s.serveClient(w, r)
	default:
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		s.serveREST(rec, r)
		s.log.Info("rest call", "method", r.Method, "path", path, "status", rec.status, "duration", time.Since(start))
	}
}

// Close closes every client connection with close code 1001 (going away)
// and waits until they have ended or ctx is done; then it closes whatever
// is left. Afterwards the service refuses new client connections.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	var all []*connection
	for _, h := range s.hubs {
		for _, c := range h.connections {
			all = append(all, c)
		}
	}
	s.mu.Unlock()
	for _, c := range all {
		c.close(websocket.CloseGoingAway, "The service is shutting down.")
	}
	done := make(chan struct{})
	go func() {
		s.sockets.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.log.Warn("closing client connections without waiting for their close frames", "connections", len(all), "error", ctx.Err())
		for _, c := range all {
			c.abort()
		}
		<-done
		return ctx.Err()
	}
}

// statusRecorder remembers the status code of a response, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// newConnectionID returns a fresh connection id shaped like the real
// service's: 22 URL-safe base64 characters, then 9 more.
func (s *Service) newConnectionID() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(16)) + s.idSuffix
}
