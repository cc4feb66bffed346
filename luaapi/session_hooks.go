package luaapi

import (
	"context"
	"sort"

	"wps/webpubsub/wsclient"
)

// This file holds what a long-lived session (the REPL) needs from its
// module beyond what a script sees.

// SetHub points the module's default client at hub, on the same service,
// and makes hub the hub of clients wps.client{} makes without one: the
// REPL's command that switches hubs. It must not be called while the
// module's state runs.
func (m *Module) SetHub(ctx context.Context, hub string) error {
	client, err := m.DefaultClient(ctx)
	if err != nil {
		return err
	}
	other, err := client.WithHub(hub)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.client = other
	m.config.Hub = hub
	return nil
}

// Connections returns the wps.connect connections that are still open,
// sorted by connection id, so that a REPL can show what arrives on them
// between evaluations (see wsclient.Conn.Queued).
func (m *Module) Connections() []*wsclient.Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	conns := make([]*wsclient.Conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c.conn)
	}
	sort.Slice(conns, func(i, j int) bool { return conns[i].ConnectionID() < conns[j].ConnectionID() })
	return conns
}
