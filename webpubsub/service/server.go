package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Server is a Service listening on a TCP address.
type Server struct {
	// Addr is the address the server listens on, as the system reports it:
	// 127.0.0.1:40123, or 0.0.0.0:8080 when it listens on every interface.
	Addr string
	// URL is the base URL of the service for clients on this machine, e.g.
	// http://127.0.0.1:40123; an address that listens on every interface
	// is dialed at 127.0.0.1.
	URL string
	// ConnectionString is Endpoint=<URL>;AccessKey=<key>;Version=1.0;. It
	// holds the access key: do not log it.
	ConnectionString string
	// Service is the service the server runs.
	Service *Service

	http     *http.Server
	listener net.Listener
	served   chan error // receives the result of Serve
}

// Listen starts a Service on addr and serves it in the background;
// "127.0.0.1:0" picks a free loopback port. The caller should call Close
// when finished.
func Listen(addr string, opts Options) (*Server, error) {
	if opts.AccessKey != "" {
		if err := CheckAccessKey(opts.AccessKey); err != nil {
			return nil, err
		}
	}
	if err := CheckOptions(opts); err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("starting the Web PubSub service: %w", err)
	}
	svc := New(opts)
	s := &Server{
		Addr:     listener.Addr().String(),
		URL:      "http://" + dialableAddr(listener.Addr().(*net.TCPAddr)),
		Service:  svc,
		listener: listener,
		served:   make(chan error, 1),
		// Every read and write of a REST call is bounded; WebSockets,
		// which the service takes over, have deadlines of their own.
		http: &http.Server{
			Handler:           svc,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			WriteTimeout:      time.Minute,
			IdleTimeout:       2 * time.Minute,
		},
	}
	s.ConnectionString = "Endpoint=" + s.URL + ";AccessKey=" + svc.key + ";Version=1.0;"
	go func() { s.served <- s.http.Serve(listener) }()
	return s, nil
}

// CheckAccessKey returns an error when key cannot be the access key of a
// Server: it must not be empty, nor hold ';', spaces or line breaks, which
// would break the connection string. The error never quotes the key.
func CheckAccessKey(key string) error {
	if key == "" {
		return errors.New("the access key must not be empty")
	}
	if strings.ContainsAny(key, "; \t\r\n") {
		return errors.New("the access key must not contain ';', spaces or line breaks: it goes into a connection string")
	}
	return nil
}

// dialableAddr returns addr as a host:port clients can dial: an unspecified
// address (0.0.0.0 or ::) becomes 127.0.0.1.
func dialableAddr(addr *net.TCPAddr) string {
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Close shuts the server down gracefully: it stops accepting connections,
// closes every client with close code 1001 (going away) and waits for them
// and for running REST calls, until ctx is done. The service's log says
// what it waits for.
func (s *Server) Close(ctx context.Context) error {
	shutdownDone := make(chan error, 1)
	go func() { shutdownDone <- s.http.Shutdown(ctx) }() // stops the listener; hijacked WebSockets are the Service's
	if n := s.Service.RESTCalls(); n > 0 {
		s.Service.log.Info("waiting for REST calls to finish", "calls", n)
	}
	closeErr := s.Service.Close(ctx)
	shutdown := <-shutdownDone
	if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving the Web PubSub service: %w", err)
	}
	if closeErr != nil {
		return closeErr
	}
	return shutdown
}
