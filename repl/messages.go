package repl

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"wps/engine"
	"wps/webpubsub/wsclient"
)

// arrivals follows the messages that arrive on the session's wps.connect
// connections. liner cannot print while a prompt is shown, so the REPL
// looks between prompts: each message that arrived since it last looked is
// shown once, as a notice, and stays queued for conn:receive; the prompt
// counts the messages still waiting there.
type arrivals struct {
	// shown is, per connection, how many of its messages have been shown
	// or taken by the script.
	shown map[*wsclient.Conn]uint64
}

func newArrivals() *arrivals { return &arrivals{shown: map[*wsclient.Conn]uint64{}} }

// collect returns a notice for each message that arrived on conns since
// the last call, and how many messages wait for conn:receive in all.
func (a *arrivals) collect(conns []*wsclient.Conn) (notices []string, waiting int) {
	open := make(map[*wsclient.Conn]bool, len(conns))
	for _, c := range conns {
		open[c] = true
		queued, received := c.Queued()
		waiting += len(queued)
		// The last received-shown messages are new, less those the script
		// has taken already with conn:receive.
		fresh := min(int(received-a.shown[c]), len(queued))
		for _, m := range queued[len(queued)-fresh:] {
			notices = append(notices, notice(c, m))
		}
		a.shown[c] = received
	}
	for c := range a.shown {
		if !open[c] {
			delete(a.shown, c)
		}
	}
	return notices, waiting
}

// pending renders every message waiting for conn:receive (.messages).
func (a *arrivals) pending(conns []*wsclient.Conn) []string {
	var lines []string
	for _, c := range conns {
		queued, received := c.Queued()
		for _, m := range queued {
			lines = append(lines, notice(c, m))
		}
		a.shown[c] = received
	}
	return lines
}

// notice renders one received message on one line: which connection got
// it, from where, and its data.
func notice(c *wsclient.Conn, m wsclient.Message) string {
	var b strings.Builder
	b.WriteString("[" + c.ConnectionID())
	if u := c.UserID(); u != "" {
		b.WriteString(" user " + strconv.Quote(u))
	}
	b.WriteString("] ")
	switch {
	case m.Type == "system":
		fmt.Fprintf(&b, "%s: %s", m.Event, m.Data)
		return engine.EscapeControl(b.String())
	case m.From == "group":
		fmt.Fprintf(&b, "from group %q", m.Group)
	case m.From != "":
		b.WriteString("from " + m.From)
	default:
		b.WriteString("message")
	}
	if m.FromUserID != "" {
		fmt.Fprintf(&b, " (user %q)", m.FromUserID)
	}
	b.WriteString(", " + m.DataType + ": ")
	switch {
	case m.DataType == wsclient.DataBinary || !utf8.Valid(m.Data):
		fmt.Fprintf(&b, "%d bytes, base64 %s", len(m.Data), base64.StdEncoding.EncodeToString(m.Data))
	case m.DataType == wsclient.DataText:
		b.WriteString(strconv.Quote(string(m.Data)))
	default:
		b.Write(m.Data)
	}
	return engine.EscapeControl(b.String())
}
