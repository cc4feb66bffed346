package wsclient

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

var _ interface {
	fmt.Stringer
	fmt.GoStringer
	fmt.Formatter
	slog.LogValuer
} = (*Conn)(nil)

// TestConn_redacted prints a reliable connection every way a program might
// and checks that neither its access token ("good") nor its reconnection
// token ("token1") shows, while its id and path do.
func TestConn_redacted(t *testing.T) {
	h := newFakeHub(t)
	c := dial(t, h.url("good", "alice"), ProtocolReliable, nil)
	nested := struct {
		Name string
		Conn *Conn
	}{"nested", c}
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%t"} {
		out[verb] = fmt.Sprintf(verb, c)
		out["nested "+verb] = fmt.Sprintf(verb, nested)
	}
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(newHandler(&buf)).Info("msg", "conn", c)
		out["slog "+name] = buf.String()
		buf.Reset()
		slog.New(newHandler(&buf)).Info("msg", slog.Any("cfg", nested))
		out["slog "+name+" nested"] = buf.String()
	}
	for how, s := range out {
		for _, secret := range []string{"good", "token1", fmt.Sprintf("%x", "good"), fmt.Sprintf("%x", "token1"), "access_token"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %q: %s", how, secret, s)
			}
		}
		useful := !strings.Contains(how, "%d") && !strings.Contains(how, "%x") && !strings.Contains(how, "%t") && how != "slog json nested"
		if useful && (!strings.Contains(s, "conn1") || !strings.Contains(s, "/client/hubs/chat")) {
			t.Errorf("%s = %s, want the connection id and path", how, s)
		}
	}
}
