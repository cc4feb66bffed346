package service

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// DevelopmentKey is the well-known access key of local Web PubSub emulators.
const DevelopmentKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"

// Defaults of Options.
const (
	// DefaultMaxQueueBytes is the reliable protocol's buffer size, 16 MiB.
	DefaultMaxQueueBytes = 16 << 20
	// DefaultPingInterval and DefaultPingTimeout follow the official
	// JavaScript client's keep-alive (a ping every 20 s, given up after
	// 120 s of silence); the real service does not document its own.
	DefaultPingInterval = 20 * time.Second
	DefaultPingTimeout  = 120 * time.Second
)

// Options configures a Service. The zero value is a service with the
// development key and the default limits that logs nothing.
type Options struct {
	AccessKey string       // "" means DevelopmentKey
	Logger    *slog.Logger // nil means discard

	// MaxQueueBytes bounds the messages waiting to be written to one client
	// connection, in bytes; a client that falls further behind is closed
	// with the reason SlowClient and its messages are let go. 0 means
	// DefaultMaxQueueBytes.
	MaxQueueBytes int
	// PingInterval is how often a client that sent nothing meanwhile gets
	// a WebSocket ping; 0 means DefaultPingInterval.
	PingInterval time.Duration
	// PingTimeout is how long a client may stay silent (no frame, no pong)
	// before it is closed with the reason PingTimeout; 0 means
	// DefaultPingTimeout. It should be a few ping intervals.
	PingTimeout time.Duration
}

// CheckOptions returns an error naming the first option that is out of
// range: negative sizes or durations, or a ping timeout not longer than
// the ping interval.
func CheckOptions(opts Options) error {
	switch {
	case opts.MaxQueueBytes < 0:
		return errors.New("the queue limit must not be negative")
	case opts.PingInterval < 0 || opts.PingTimeout < 0:
		return errors.New("the ping interval and timeout must not be negative")
	}
	interval, timeout := cmp.Or(opts.PingInterval, DefaultPingInterval), cmp.Or(opts.PingTimeout, DefaultPingTimeout)
	if timeout <= interval {
		return fmt.Errorf("the ping timeout (%s) must be longer than the ping interval (%s)", timeout, interval)
	}
	return nil
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

	maxQueueBytes int
	pingInterval  time.Duration
	pingTimeout   time.Duration
	writeWait     time.Duration // how long one frame may take to write; tests shorten it

	// sockets counts the reader and writer goroutines of client sockets.
	sockets sync.WaitGroup

	// draining holds the connections closed as slow or silent: they are
	// out of their hubs, but their sockets still end; Close aborts them.
	drainingMu sync.Mutex
	draining   map[*connection]struct{}

	stopSweeps chan struct{} // closed by Close
	closeOnce  sync.Once
	restCalls  atomic.Int64 // REST calls being served

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
		key:           key,
		log:           logger,
		idSuffix:      hex.EncodeToString(randomBytes(5))[:9],
		hubs:          map[string]*hub{},
		now:           time.Now,
		maxQueueBytes: cmp.Or(max(opts.MaxQueueBytes, 0), DefaultMaxQueueBytes),
		pingInterval:  cmp.Or(max(opts.PingInterval, 0), DefaultPingInterval),
		pingTimeout:   cmp.Or(max(opts.PingTimeout, 0), DefaultPingTimeout),
		writeWait:     defaultWriteWait,
		draining:      map[*connection]struct{}{},
		stopSweeps:    make(chan struct{}),
	}
	if s.pingTimeout <= s.pingInterval {
		s.pingTimeout = 2 * s.pingInterval
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: handshakeTimeout,
		ReadBufferSize:   1024,
		WriteBufferSize:  4096,
		WriteBufferPool:  &sync.Pool{},
		CheckOrigin:      func(*http.Request) bool { return true },
		Error:            s.upgradeError,
	}
	go s.sweepKeepAlive()
	return s
}

// handshakeTimeout bounds the WebSocket handshake.
const handshakeTimeout = 10 * time.Second

// readDeadline is the read deadline of a socket last heard from at t: well
// after the keep-alive sweep would have closed it, so that it only bounds
// reads should the sweeps stop.
func (s *Service) readDeadline(t time.Time) time.Time {
	return t.Add(s.pingTimeout + 2*s.pingInterval + closeHandshakeWait)
}

// Keep-alive pings are spread out: a sweep pings at most sweepBatch
// connections, then pauses sweepPause, so that a hub of many idle
// connections never starts thousands of writers at once.
const (
	sweepBatch = 256
	sweepPause = 5 * time.Millisecond
)

// sweepKeepAlive runs a keep-alive sweep over every connection each ping
// interval, until Close.
func (s *Service) sweepKeepAlive() {
	ticker := time.NewTicker(s.pingInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stopSweeps:
			return
		case now := <-ticker.C:
			for i, c := range s.allConnections() {
				c.keepAlive(now)
				if i%sweepBatch == sweepBatch-1 {
					select {
					case <-s.stopSweeps:
						return
					case <-time.After(sweepPause):
					}
				}
			}
		}
	}
}

// drain records c, which left its hub while its socket still ends.
func (s *Service) drain(c *connection) {
	s.drainingMu.Lock()
	s.draining[c] = struct{}{}
	s.drainingMu.Unlock()
}

// undrain forgets c once its socket has ended.
func (s *Service) undrain(c *connection) {
	s.drainingMu.Lock()
	delete(s.draining, c)
	s.drainingMu.Unlock()
}

// allConnections returns every connection of every hub.
func (s *Service) allConnections() []*connection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, h := range s.hubs {
		n += len(h.connections)
	}
	all := make([]*connection, 0, n)
	for _, h := range s.hubs {
		for _, c := range h.connections {
			all = append(all, c)
		}
	}
	return all
}

// ServeHTTP serves the REST API, the health check and client connections.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case path == "/client" || strings.HasPrefix(path, "/client/"):
		s.serveClient(w, r)
	default:
		s.restCalls.Add(1)
		defer s.restCalls.Add(-1)
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		s.serveREST(rec, r)
		s.log.Info("rest call", "method", r.Method, "path", path, "status", rec.status, "duration", time.Since(start))
	}
}

// Close closes every client connection with close code 1001 (going away)
// and waits until they have ended or ctx is done; then it closes whatever
// is left. Afterwards the service refuses new client connections. While it
// waits, it logs how many clients have not answered their close frame yet.
func (s *Service) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.stopSweeps) })
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	all := s.allConnections()
	for _, c := range all {
		c.close(websocket.CloseGoingAway, "The service is shutting down.")
	}
	done := make(chan struct{})
	go func() {
		s.sockets.Wait()
		close(done)
	}()
	if len(all) > 0 {
		s.log.Info("waiting for clients to answer their close frames", "connections", len(all))
	}
	progress := time.NewTicker(closeProgressEvery)
	defer progress.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-progress.C:
			s.log.Info("still waiting for clients to answer their close frames", "connections", len(s.allConnections()))
		case <-ctx.Done():
			s.log.Warn("closing client connections without waiting for their close frames", "connections", len(s.allConnections()), "error", ctx.Err())
			s.drainingMu.Lock()
			draining := slices.Collect(maps.Keys(s.draining))
			s.drainingMu.Unlock()
			for _, c := range append(all, draining...) {
				c.abort()
			}
			<-done
			return ctx.Err()
		}
	}
}

// closeProgressEvery is how often Close logs what it still waits for.
const closeProgressEvery = 2 * time.Second

// RESTCalls returns how many REST calls are being served.
func (s *Service) RESTCalls() int { return int(s.restCalls.Load()) }

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
