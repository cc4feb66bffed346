package luaapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"wps/webpubsub"
)

// clientTypeName names the metatable of client objects.
const clientTypeName = "wps.client"

// Config is what the wps module of one run needs from its runner: where its
// default client comes from and how every client it makes behaves. The
// module never chooses a service itself: the engine decides (flags, the
// environment or the embedded service) and hands over DefaultClient.
type Config struct {
	// DefaultClient returns the client of wps.send_to_all and the other
	// module functions. It is called on the first call that needs it, and
	// its result is kept for the rest of the run. Nil means the module has
	// no default client and those functions fail.
	DefaultClient func(ctx context.Context) (*webpubsub.Client, error)
	// Hub is the hub of clients made by wps.client{} without a hub.
	Hub string
	// HTTPClient sends the REST requests of clients made by wps.client{};
	// nil means the webpubsub package's default. A test runner sets it to
	// a recording or replaying transport.
	HTTPClient *http.Client
	// Logger receives debug records of requests (redacted); nil means none.
	Logger *slog.Logger
	// Stderr is where wps.each draws its progress bar, only when it is a
	// terminal; nil means no progress bar.
	Stderr io.Writer
}

// Module is the wps Lua module of one run: its configuration, its default
// client (made on first use) and the client connections the run opened,
// which Close closes. Open installs it in the run's Lua state. A Module
// belongs to one state at a time.
type Module struct {
	config Config

	mu sync.Mutex // guards the fields below
	// client is the default client; nil until first needed.
	client *webpubsub.Client
	// conns are the wps.connect connections not yet closed.
	conns map[*connection]struct{}
	// closed is set by Close: no more connections are made.
	closed bool
}

// NewModule returns the wps module of one run, configured by config.
func NewModule(config Config) *Module {
	return &Module{config: config, conns: map[*connection]struct{}{}}
}

// errNoDefaultClient is the error of module functions in a state whose
// runner gave no default client.
var errNoDefaultClient = errors.New("no default client is configured")

// DefaultClient returns the run's default client, asking the runner for it
// on first use.
func (m *Module) DefaultClient(ctx context.Context) (*webpubsub.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("the run has ended")
	}
	if m.client != nil {
		return m.client, nil
	}
	if m.config.DefaultClient == nil {
		return nil, errNoDefaultClient
	}
	client, err := m.config.DefaultClient(ctx)
	if err != nil {
		return nil, err
	}
	m.client = client
	return client, nil
}

// clientOptions returns the options every client the module makes starts
// from.
func (m *Module) clientOptions() *webpubsub.ClientOptions {
	return &webpubsub.ClientOptions{HTTPClient: m.config.HTTPClient, Logger: m.config.Logger}
}

// Close closes the client connections the run left open. The module makes
// no new connection after it.
func (m *Module) Close() error {
	m.mu.Lock()
	m.closed = true
	conns := m.conns
	m.conns = map[*connection]struct{}{}
	m.mu.Unlock()
	var errs []error
	for c := range conns {
		errs = append(errs, c.conn.Close())
	}
	return errors.Join(errs...)
}

// OpenConnections returns how many client connections of the run are open.
func (m *Module) OpenConnections() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.conns)
}

// clientHandle is the Go value inside a client object.
type clientHandle struct {
	client *webpubsub.Client
}

// clientMetatable returns the metatable of client objects, made once per
// state: their methods are the registry's client functions, the operations
// plus hub and connect.
func clientMetatable(L *lua.LState) *lua.LTable {
	if mt, ok := L.GetField(L.Get(lua.RegistryIndex), clientTypeName).(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTypeMetatable(clientTypeName)
	mt.RawSetString("__name", lua.LString(clientTypeName))
	mt.RawSetString("__index", functionTable(L, "client"))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		h := L.CheckUserData(1).Value.(*clientHandle)
		L.Push(lua.LString(fmt.Sprintf("wps.client(hub=%s, endpoint=%s)", h.client.Hub(), h.client.Endpoint())))
		return 1
	}))
	return mt
}

// pushClient pushes a client object for c.
func pushClient(L *lua.LState, c *webpubsub.Client) int {
	ud := L.NewUserData()
	ud.Value = &clientHandle{client: c}
	L.SetMetatable(ud, clientMetatable(L))
	L.Push(ud)
	return 1
}

// wpsHub is wps.hub(name): a client for another hub of the default service.
func wpsHub(a args) int {
	name := a.string(1)
	client, err := instanceOf(a.L).m.DefaultClient(Context(a.L))
	if err != nil {
		raiseError(a.L, a.fn.Name, err)
	}
	other, err := client.WithHub(name)
	if err != nil {
		a.error(1, err.Error())
	}
	return pushClient(a.L, other)
}

// clientHub is client:hub(name): a client for another hub of the same
// service.
func clientHub(a args) int {
	h := receiver[*clientHandle](a)
	other, err := h.client.WithHub(a.string(1))
	if err != nil {
		a.error(1, err.Error())
	}
	return pushClient(a.L, other)
}

// wpsClient is wps.client{...}: a client from a connection string or an
// endpoint and key, with optional hub, reverse_proxy, api_version, timeout
// (seconds) and retries.
func wpsClient(a args) int {
	m := instanceOf(a.L).m
	o := a.options(1)
	connectionString := o.string("connection_string")
	endpoint, key := o.string("endpoint"), o.string("key")
	hub := o.string("hub")
	if hub == "" {
		hub = m.config.Hub
	}
	opts := m.clientOptions()
	opts.ReverseProxyEndpoint = o.string("reverse_proxy")
	opts.APIVersion = o.string("api_version")
	if o.has("timeout") {
		timeout, problem := seconds(o.number("timeout", 0))
		if problem != "" || timeout == 0 {
			o.error("timeout", fmt.Sprintf("a positive number of seconds expected, got %v", o.get("timeout")))
		}
		opts.Timeout = timeout
	}
	switch retries := o.int("retries", -1, 0, 100); retries {
	case -1: // absent: the Go client's default
	case 0:
		opts.MaxRetries = -1 // the Go client's "never"
	default:
		opts.MaxRetries = retries
	}
	var client *webpubsub.Client
	var err error
	switch {
	case connectionString != "" && (endpoint != "" || key != ""):
		a.error(1, "give either connection_string or endpoint and key, not both")
	case connectionString != "":
		client, err = webpubsub.NewClientFromConnectionString(connectionString, hub, opts)
	case endpoint != "" && key != "":
		client, err = webpubsub.NewClient(endpoint, key, hub, opts)
	default:
		a.error(1, "option 'connection_string', or 'endpoint' and 'key', expected")
	}
	if err != nil {
		a.error(1, webpubsub.RedactSecrets(err.Error()))
	}
	return pushClient(a.L, client)
}
