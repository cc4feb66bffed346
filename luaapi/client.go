package luaapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wps/webpubsub"
	"wps/webpubsub/service"
)

// DefaultHub is the hub of the default client when none is configured.
const DefaultHub = "hub"

// clientTypeName names the metatable of client objects.
const clientTypeName = "wps.client"

// ClientConfig says where the wps module's default client points and how
// every client a script makes behaves. The zero value means: the embedded
// service, hub "hub".
type ClientConfig struct {
	// ConnectionString and Hub select the default client's service and
	// hub. Runners fill them from --connection-string and --hub, then from
	// the environment (see ApplyEnv). An empty ConnectionString means the
	// embedded service, started on the first call that needs it; an empty
	// Hub means DefaultHub.
	ConnectionString string
	Hub              string
	// HTTPClient sends the REST requests of every client; nil means the
	// webpubsub package's default. Benchmarks set it to a transport that
	// answers at once.
	HTTPClient *http.Client
	// Logger receives debug records of requests (redacted); nil means none.
	Logger *slog.Logger
	// Stderr is where wps.each draws its progress bar, only when it is a
	// terminal; nil means no progress bar.
	Stderr io.Writer
}

// ApplyEnv fills the empty ConnectionString and Hub from the environment
// variables WEBPUBSUB_CONNECTION_STRING and WEBPUBSUB_HUB, read with getenv
// (os.Getenv in the command, a map in tests).
func (c *ClientConfig) ApplyEnv(getenv func(string) string) {
	if c.ConnectionString == "" {
		c.ConnectionString = getenv("WEBPUBSUB_CONNECTION_STRING")
	}
	if c.Hub == "" {
		c.Hub = getenv("WEBPUBSUB_HUB")
	}
}

// Module is the wps Lua module of one process: its configuration, its
// default client and the embedded service behind it, both made on first
// use, and the client connections scripts opened. Open installs it in a Lua
// state; it may be installed in several states, even concurrently. The
// caller must call Close when the states are done.
type Module struct {
	config ClientConfig

	mu sync.Mutex // guards the fields below
	// client is the default client; nil until first needed.
	client *webpubsub.Client
	// server is the embedded service, if the default client started it.
	server *service.Server
	// conns are the wps.connect connections not yet closed.
	conns map[*connection]struct{}
	// closed is set by Close: no more clients or connections are made.
	closed bool
}

// NewModule returns the wps module configured by config.
func NewModule(config ClientConfig) *Module {
	if config.Hub == "" {
		config.Hub = DefaultHub
	}
	return &Module{config: config, conns: map[*connection]struct{}{}}
}

// DefaultClient returns the client of the configured service and hub,
// starting the embedded service if no connection string is configured.
func (m *Module) DefaultClient(ctx context.Context) (*webpubsub.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("the wps module is closed")
	}
	if m.client != nil {
		return m.client, nil
	}
	connectionString := m.config.ConnectionString
	if connectionString == "" {
		// The service's own records (connections, calls) are noise in a
		// script's output: show them only when debugging.
		var serviceLogger *slog.Logger
		if m.config.Logger != nil && m.config.Logger.Enabled(ctx, slog.LevelDebug) {
			serviceLogger = m.config.Logger
		}
		server, err := service.Listen("127.0.0.1:0", service.Options{Logger: serviceLogger})
		if err != nil {
			return nil, fmt.Errorf("starting the embedded service: %w", err)
		}
		m.server = server
		connectionString = server.ConnectionString
	}
	client, err := webpubsub.NewClientFromConnectionString(connectionString, m.config.Hub, m.clientOptions())
	if err != nil {
		return nil, fmt.Errorf("default client: %w", err)
	}
	m.client = client
	return client, nil
}

// clientOptions returns the options every client of the module starts from.
func (m *Module) clientOptions() *webpubsub.ClientOptions {
	return &webpubsub.ClientOptions{HTTPClient: m.config.HTTPClient, Logger: m.config.Logger}
}

// Close closes the client connections scripts left open and stops the
// embedded service, if it was started.
func (m *Module) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	conns := m.conns
	m.conns = map[*connection]struct{}{}
	server := m.server
	m.server = nil
	m.mu.Unlock()
	for c := range conns {
		c.conn.Close()
	}
	if server != nil {
		return server.Close(ctx)
	}
	return nil
}

// clientHandle is the Go value inside a client object.
type clientHandle struct {
	client *webpubsub.Client
}

// checkClient returns the receiver of the client method fn, raising
// "calling 'client:x' on bad self" for anything but a client object.
func checkClient(L *lua.LState, fn *Function) *clientHandle {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if h, ok := ud.Value.(*clientHandle); ok {
			return h
		}
	}
	TypeError(L, fn, 1, "wps.client")
	return nil
}

// clientMetatable returns the metatable of client objects, whose methods
// are the operations plus hub and connect, made once per state.
func (inst *instance) clientMetatable(L *lua.LState) *lua.LTable {
	if mt, ok := L.GetField(L.Get(lua.RegistryIndex), clientTypeName).(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTypeMetatable(clientTypeName)
	methods := L.NewTable()
	for _, o := range operations {
		L.SetField(methods, o.name, L.NewFunction(inst.methodFunction(o)))
	}
	L.SetFuncs(methods, map[string]lua.LGFunction{
		"hub":     inst.clientHub,
		"connect": inst.clientConnect,
	})
	L.SetField(mt, "__index", methods)
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		h := L.CheckUserData(1).Value.(*clientHandle)
		L.Push(lua.LString(fmt.Sprintf("wps.client(hub=%s, endpoint=%s)", h.client.Hub(), h.client.Endpoint())))
		return 1
	}))
	return mt
}

// pushClient pushes a client object for c.
func (inst *instance) pushClient(L *lua.LState, c *webpubsub.Client) int {
	ud := L.NewUserData()
	ud.Value = &clientHandle{client: c}
	L.SetMetatable(ud, inst.clientMetatable(L))
	L.Push(ud)
	return 1
}

// wpsHub is wps.hub(name): a client for another hub of the default service.
func (inst *instance) wpsHub(L *lua.LState) int {
	a := newArgs(L, wpsHubFunc)
	name := a.string(1)
	client, err := inst.m.DefaultClient(Context(L))
	if err != nil {
		raiseError(L, "hub", err)
	}
	other, err := client.WithHub(name)
	if err != nil {
		a.argError(1, err.Error())
	}
	return inst.pushClient(L, other)
}

// clientHub is client:hub(name): a client for another hub of the same
// service.
func (inst *instance) clientHub(L *lua.LState) int {
	h := checkClient(L, clientHubFunc)
	a := newArgs(L, clientHubFunc)
	other, err := h.client.WithHub(a.string(1))
	if err != nil {
		a.argError(1, err.Error())
	}
	return inst.pushClient(L, other)
}

// wpsClient is wps.client{...}: a client from a connection string or an
// endpoint and key, with optional hub, reverse_proxy, api_version, timeout
// (seconds) and retries.
func (inst *instance) wpsClient(L *lua.LState) int {
	a := newArgs(L, wpsClientFunc)
	a.table(1)
	o := a.options(1, "wps.ClientOptions")
	connectionString := o.string("connection_string")
	endpoint, key := o.string("endpoint"), o.string("key")
	hub := o.string("hub")
	if hub == "" {
		hub = inst.m.config.Hub
	}
	opts := inst.m.clientOptions()
	opts.ReverseProxyEndpoint = o.string("reverse_proxy")
	opts.APIVersion = o.string("api_version")
	if seconds, ok := o.number("timeout"); ok {
		if seconds <= 0 || math.IsInf(seconds, 0) || math.IsNaN(seconds) {
			o.fail("timeout", "a positive number of seconds expected")
		}
		opts.Timeout = time.Duration(seconds * float64(time.Second))
	}
	if _, ok := o.number("retries"); ok {
		opts.MaxRetries = o.int("retries", 0, 100)
		if opts.MaxRetries == 0 {
			opts.MaxRetries = -1 // the Go client's "never"
		}
	}
	var client *webpubsub.Client
	var err error
	switch {
	case connectionString != "" && (endpoint != "" || key != ""):
		a.argError(1, "give either connection_string or endpoint and key, not both")
	case connectionString != "":
		client, err = webpubsub.NewClientFromConnectionString(connectionString, hub, opts)
	case endpoint != "" && key != "":
		client, err = webpubsub.NewClient(endpoint, key, hub, opts)
	default:
		a.argError(1, "option 'connection_string', or 'endpoint' and 'key', expected")
	}
	if err != nil {
		a.argError(1, webpubsub.RedactSecrets(err.Error()))
	}
	return inst.pushClient(L, client)
}
