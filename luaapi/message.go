package luaapi

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"wps/webpubsub"
)

// binaryTypeName names the metatable of the values wps.binary returns.
const binaryTypeName = "wps.binary"

// binary is the Go value inside a wps.binary userdata: bytes to send as
// application/octet-stream.
type binary []byte

// wpsBinary is wps.binary(s): it wraps the bytes of s so that a send
// operation posts them as application/octet-stream.
func wpsBinary(a args) int {
	L := a.L
	s := a.string(1)
	ud := L.NewUserData()
	ud.Value = binary(s)
	L.SetMetatable(ud, binaryMetatable(L))
	L.Push(ud)
	return 1
}

// binaryMetatable returns the metatable of wps.binary values, made once per
// state: #b is the byte count, tostring(b) returns the bytes.
func binaryMetatable(L *lua.LState) *lua.LTable {
	if mt, ok := L.GetField(L.Get(lua.RegistryIndex), binaryTypeName).(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTypeMetatable(binaryTypeName)
	mt.RawSetString("__name", lua.LString(binaryTypeName))
	L.SetField(mt, "__len", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(len(checkBinary(L, 1))))
		return 1
	}))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(checkBinary(L, 1)))
		return 1
	}))
	return mt
}

// checkBinary returns the bytes of the wps.binary at stack position n,
// raising an error for anything else.
func checkBinary(L *lua.LState, n int) binary {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if b, ok := ud.Value.(binary); ok {
			return b
		}
	}
	L.ArgError(n, "wps.binary expected, got "+typeName(L.Get(n)))
	return nil
}

// checkMessage converts argument n into the body of a send operation. A
// table becomes JSON, a string text, a wps.binary bytes; an explicit
// contentType (one of webpubsub.ContentTypes, "" when absent) wins, within
// what makes sense: a string sent as JSON must hold valid JSON, text and
// JSON must be valid UTF-8, and a table can only be JSON.
func checkMessage(a args, n int, contentType string) webpubsub.Message {
	v := a.get(n)
	var natural string // the content type v has by itself
	var data []byte
	switch v := v.(type) {
	case *lua.LTable:
		natural = webpubsub.ContentTypeJSON
	case lua.LString:
		natural, data = webpubsub.ContentTypeText, []byte(v)
	case *lua.LUserData:
		b, ok := v.Value.(binary)
		if !ok {
			a.typeError(n, "string, table or wps.binary")
		}
		natural, data = webpubsub.ContentTypeBinary, b
	default:
		a.typeError(n, "string, table or wps.binary")
	}
	if contentType == "" {
		contentType = natural
	}
	switch contentType {
	case webpubsub.ContentTypeJSON:
		if natural == webpubsub.ContentTypeJSON {
			encoded, err := ToJSON(a.L, v)
			if err != nil {
				a.error(n, "cannot encode the message as JSON: "+err.Error())
			}
			data = encoded
		} else if !json.Valid(data) {
			a.error(n, "content_type is application/json but the message is not valid JSON")
		}
	case webpubsub.ContentTypeText, webpubsub.ContentTypeBinary:
		if natural == webpubsub.ContentTypeJSON {
			a.error(n, fmt.Sprintf("a table is sent as application/json, not %s; encode it or pass a string", contentType))
		}
	}
	// Clients receive text and JSON in text frames, which must be UTF-8;
	// the service refuses anything else.
	if contentType != webpubsub.ContentTypeBinary && !utf8.Valid(data) {
		a.error(n, fmt.Sprintf("the message is not valid UTF-8 text, which %s requires; send other bytes with wps.binary(s)", contentType))
	}
	return webpubsub.Message{ContentType: contentType, Data: data}
}
