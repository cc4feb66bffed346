package engine

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"wps/webpubsub"
	"wps/webpubsub/service"
)

// DefaultHub is the hub of the default client when none is configured.
const DefaultHub = "hub"

// Target is the service and hub the default client of every run points at.
// The zero value is the embedded service with hub DefaultHub.
type Target struct {
	// ConnectionString is the service's connection string; "" means the
	// Web PubSub service embedded in wps, started on first need.
	ConnectionString string
	// Hub is the default client's hub; "" means DefaultHub.
	Hub string
}

// TargetError is a connection string or hub name that does not parse. It
// names where the value came from and never shows the key.
type TargetError struct {
	// Source is the flag or variable the value came from, e.g.
	// "--connection-string" or "$WEBPUBSUB_HUB".
	Source string
	// FromFlag is true when the value came from the command line, so that
	// the runner can report a usage mistake.
	FromFlag bool
	// Err says what is wrong.
	Err error
}

// Error returns "source: what is wrong".
func (e *TargetError) Error() string { return e.Source + ": " + e.Err.Error() }

// Unwrap returns what is wrong.
func (e *TargetError) Unwrap() error { return e.Err }

// ResolveTarget chooses the target of a runner's scripts: the flags
// --connection-string and --hub when set, else the environment variables
// WEBPUBSUB_CONNECTION_STRING and WEBPUBSUB_HUB (read with lookupEnv; nil
// reads nothing), else the embedded service and hub DefaultHub. It checks
// both values before any script runs, so that a runbook never does half its
// work and then finds its target mistyped.
func ResolveTarget(connectionString, hub string, lookupEnv func(string) (string, bool)) (Target, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	t := Target{ConnectionString: connectionString, Hub: hub}
	csSource, hubSource := "--connection-string", "--hub"
	if t.ConnectionString == "" {
		t.ConnectionString, _ = lookupEnv("WEBPUBSUB_CONNECTION_STRING")
		csSource = "$WEBPUBSUB_CONNECTION_STRING"
	}
	if t.Hub == "" {
		t.Hub, _ = lookupEnv("WEBPUBSUB_HUB")
		hubSource = "$WEBPUBSUB_HUB"
	}
	if t.ConnectionString != "" {
		if _, err := webpubsub.ParseConnectionString(t.ConnectionString); err != nil {
			return Target{}, &TargetError{Source: csSource, FromFlag: csSource[0] == '-', Err: err}
		}
	}
	if t.Hub == "" {
		t.Hub = DefaultHub
	} else if err := webpubsub.CheckHubName(t.Hub); err != nil {
		return Target{}, &TargetError{Source: hubSource, FromFlag: hubSource[0] == '-', Err: err}
	}
	return t, nil
}

// Embedded reports whether the target is the embedded service.
func (t Target) Embedded() bool { return t.ConnectionString == "" }

// String names the target without its key: "chat@contoso.webpubsub.azure.com",
// or "hub@embedded" for the embedded service.
func (t Target) String() string {
	hub := t.Hub
	if hub == "" {
		hub = DefaultHub
	}
	if t.Embedded() {
		return hub + "@embedded"
	}
	cs, err := webpubsub.ParseConnectionString(t.ConnectionString)
	if err != nil {
		return hub + "@(invalid connection string)"
	}
	host := cs.Endpoint
	if u, err := url.Parse(cs.Endpoint); err == nil && u.Host != "" {
		host = u.Host
	}
	return hub + "@" + host
}

// GoString is String, so that %#v of a Target never shows the key.
func (t Target) GoString() string { return "engine.Target(" + t.String() + ")" }

// LogValue is String, so that a logged Target never shows the key.
func (t Target) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Service returns the connection string of the engine's target, starting
// the embedded service on first need when the target is embedded. The
// embedded service is started once per engine and shared by all its runs;
// Close stops it.
func (e *Engine) Service(ctx context.Context) (string, error) {
	if !e.opts.Target.Embedded() {
		return e.opts.Target.ConnectionString, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return "", fmt.Errorf("the engine is closed")
	}
	if e.server != nil {
		return e.server.ConnectionString, nil
	}
	// The service's own records (connections, calls) are noise in a
	// script's output: show them only when debugging.
	var serviceLogger *slog.Logger
	if e.opts.Logger != nil && e.opts.Logger.Enabled(ctx, slog.LevelDebug) {
		serviceLogger = e.opts.Logger
	}
	server, err := service.Listen("127.0.0.1:0", service.Options{Logger: serviceLogger})
	if err != nil {
		return "", fmt.Errorf("starting the embedded service: %w", err)
	}
	e.server = server
	return server.ConnectionString, nil
}

// defaultClient returns the default client of a run: the target's service
// and hub, sending requests with httpClient and logging to logger.
func (e *Engine) defaultClient(ctx context.Context, httpClient *http.Client, logger *slog.Logger) (*webpubsub.Client, error) {
	connectionString, err := e.Service(ctx)
	if err != nil {
		return nil, err
	}
	return webpubsub.NewClientFromConnectionString(connectionString, e.opts.Target.Hub, &webpubsub.ClientOptions{
		HTTPClient: httpClient, Logger: logger,
	})
}
