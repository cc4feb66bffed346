package luaapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wps/webpubsub"
	"wps/webpubsub/wsclient"
)

// errorTypeName names the metatable of the error tables raised by wps
// functions.
const errorTypeName = "wps.error"

// raiseError raises err, the failure of the operation op, as a structured
// Lua error: a table with status, code, message, operation, method, path and
// request_id, whose __tostring reads as one line. It never returns.
func raiseError(L *lua.LState, op string, err error) {
	L.Error(errorTable(L, op, err), 0)
}

// errorTable converts err into the table that raiseError raises.
// A client connection's negative ack gives code (the ack's error name) and
// message, a refused WebSocket handshake gives status; other errors (bad
// arguments caught before any request, a closed connection) keep only
// operation and message. A wps.each result carries the same table.
func errorTable(L *lua.LState, op string, err error) *lua.LTable {
	t := L.NewTable()
	var e *webpubsub.Error
	if errors.As(err, &e) {
		if e.StatusCode != 0 {
			t.RawSetString("status", lua.LNumber(e.StatusCode))
		}
		setString(t, "code", e.Code)
		message := e.Message
		if e.StatusCode == 0 && e.Err != nil && message == "" {
			message = e.Err.Error()
		}
		setString(t, "message", webpubsub.RedactSecrets(message))
		setString(t, "operation", firstNonEmpty(e.Operation, op))
		setString(t, "method", e.Method)
		setString(t, "path", e.Path)
		setString(t, "request_id", e.RequestID)
	} else if ack := (*wsclient.AckError)(nil); errors.As(err, &ack) {
		// A client connection's request refused by the service.
		setString(t, "code", ack.Name)
		setString(t, "message", webpubsub.RedactSecrets(ack.Message))
		setString(t, "operation", op)
	} else if refused := (*wsclient.HandshakeError)(nil); errors.As(err, &refused) {
		t.RawSetString("status", lua.LNumber(refused.StatusCode))
		setString(t, "message", webpubsub.RedactSecrets(refused.Body))
		setString(t, "operation", op)
	} else {
		message := err.Error()
		// The Go client prefixes its own errors with the operation; the
		// table has a field for it.
		message = strings.TrimPrefix(message, op+": ")
		setString(t, "operation", op)
		setString(t, "message", webpubsub.RedactSecrets(message))
	}
	L.SetMetatable(t, errorMetatable(L))
	return t
}

// errorMetatable returns the metatable of wps error tables, made once per
// state.
func errorMetatable(L *lua.LState) *lua.LTable {
	mt, ok := L.GetField(L.Get(lua.RegistryIndex), errorTypeName).(*lua.LTable)
	if ok {
		return mt
	}
	mt = L.NewTypeMetatable(errorTypeName)
	L.SetField(mt, "__tostring", L.NewFunction(errorToString))
	return mt
}

// errorToString is the __tostring of wps errors:
// "wps: send_to_group: 403 Forbidden (Error.Forbidden): message".
func errorToString(L *lua.LState) int {
	t := L.CheckTable(1)
	L.Push(lua.LString(formatError(t)))
	return 1
}

// formatError renders a wps error table as one line.
func formatError(t *lua.LTable) string {
	field := func(name string) string {
		if v, ok := t.RawGetString(name).(lua.LString); ok {
			return string(v)
		}
		return ""
	}
	var b strings.Builder
	b.WriteString("wps: ")
	b.WriteString(firstNonEmpty(field("operation"), "?"))
	b.WriteString(": ")
	if status, ok := t.RawGetString("status").(lua.LNumber); ok {
		fmt.Fprintf(&b, "%d %s", int(status), http.StatusText(int(status)))
	} else {
		b.WriteString("failed")
	}
	if code := field("code"); code != "" {
		fmt.Fprintf(&b, " (%s)", code)
	}
	if message := field("message"); message != "" {
		b.WriteString(": ")
		b.WriteString(message)
	}
	return b.String()
}

func setString(t *lua.LTable, key, value string) {
	if value != "" {
		t.RawSetString(key, lua.LString(value))
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
