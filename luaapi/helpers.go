package luaapi

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// This file holds Open and the helpers every script has besides json (see
// json.go) and flags (flags.go): log, sleep, env, args and inspect.

// Options configure what Open puts into a state. The zero value gives the
// helpers with log lines discarded, the process environment, no args and
// no wps module.
type Options struct {
	// Logger receives the log.* lines of scripts; nil discards them.
	Logger *slog.Logger
	// LookupEnv reads environment variables for env(); nil means
	// os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// Args is the list the script sees as args.
	Args []string
	// WPS is the wps module of the run to install; nil leaves the wps
	// global out.
	WPS *Module
	// Host names the command running the script (e.g. "wps run"), and
	// HostFlags are that command's own flags: flags.parse tells a script's
	// user who gives one of them after the script's name that it belongs
	// before it.
	Host      string
	HostFlags []string
}

// helperState is what the helpers of one state need from Options, kept in
// the state's registry.
type helperState struct {
	logger    *slog.Logger
	lookupEnv func(string) (string, bool)
	host      string
	hostFlags []string
}

// helperStateKey is the registry key of a state's helperState.
const helperStateKey = "wps.helpers"

// Open installs the Lua surface of wps in L: the globals json, log, flags,
// sleep, env, args and inspect (json, log and flags also through require),
// then the wps module if opts.WPS is set. L must have the standard
// libraries it needs open already: which ones is the runner's choice (see
// engine's sandbox).
func Open(L *lua.LState, opts Options) {
	state := &helperState{logger: opts.Logger, lookupEnv: opts.LookupEnv, host: opts.Host, hostFlags: opts.HostFlags}
	if state.logger == nil {
		state.logger = slog.New(slog.DiscardHandler)
	}
	if state.lookupEnv == nil {
		state.lookupEnv = os.LookupEnv
	}
	ud := L.NewUserData()
	ud.Value = state
	L.Get(lua.RegistryIndex).(*lua.LTable).RawSetString(helperStateKey, ud)

	setModule(L, "json", newJSONModule(L))
	setModule(L, "log", functionTable(L, "log"))
	setModule(L, "flags", functionTable(L, "flags"))
	functionTable(L, "").ForEach(func(name, fn lua.LValue) { L.SetGlobal(string(name.(lua.LString)), fn) })
	SetArgs(L, opts.Args)
	if opts.WPS != nil {
		opts.WPS.Open(L)
	}
}

// setModule sets mod as the global name and, when the package library is
// open, as what require(name) returns.
func setModule(L *lua.LState, name string, mod *lua.LTable) {
	L.SetGlobal(name, mod)
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	if preload, ok := pkg.RawGetString("preload").(*lua.LTable); ok {
		preload.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			L.Push(mod)
			return 1
		}))
	}
}

// helpers returns the helperState Open stored in L, or a default one for a
// state Open has not seen.
func helpers(L *lua.LState) *helperState {
	if ud, ok := L.Get(lua.RegistryIndex).(*lua.LTable).RawGetString(helperStateKey).(*lua.LUserData); ok {
		if s, ok := ud.Value.(*helperState); ok {
			return s
		}
	}
	return &helperState{logger: slog.New(slog.DiscardHandler), lookupEnv: os.LookupEnv}
}

// Context returns the context of the run L belongs to (set by the engine
// with L.SetContext), or context.Background() when there is none. Bindings
// pass it to every blocking call, so that Ctrl-C and timeouts stop them.
func Context(L *lua.LState) context.Context {
	if ctx := L.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// SetArgs sets the args global of L to the list args.
func SetArgs(L *lua.LState, args []string) {
	t := L.CreateTable(len(args), 0)
	for _, a := range args {
		t.Append(lua.LString(a))
	}
	L.SetGlobal("args", t)
}

// logLevels are the log functions and their levels, in the order of the
// reference.
var logLevels = []struct {
	name  string
	level slog.Level
	doc   string
}{
	{"debug", slog.LevelDebug, "Write a structured line at level DEBUG on stderr (shown with --log-level debug)."},
	{"info", slog.LevelInfo, "Write a structured line at level INFO on stderr."},
	{"warn", slog.LevelWarn, "Write a structured line at level WARN on stderr."},
	{"error", slog.LevelError, "Write a structured line at level ERROR on stderr (the script goes on)."},
}

func init() {
	Register(
		Function{Name: "sleep",
			Params: []Param{{Name: "seconds", Type: "number", Doc: "how long to wait; fractions allowed"}},
			Doc:    "Wait for a number of seconds; Ctrl-C or the run's timeout interrupts the wait.",
			Fn:     luaSleep,
		},
		Function{Name: "env",
			Params: []Param{
				{Name: "name", Type: "string", Doc: "the variable's name"},
				{Name: "default", Type: "string?", Doc: "returned when the variable is not set"},
			},
			Returns: "string?",
			Doc:     "Read an environment variable, or default (nil if none) when it is not set.",
			Fn:      luaEnv,
		},
		Function{Name: "inspect",
			Params: []Param{
				{Name: "value", Type: "any"},
				{Name: "opts", Type: "InspectOptions?", Doc: "depth"},
			},
			Returns: "string",
			Doc:     "Render any value readably: tables with sorted keys, nested tables indented, cycles marked.",
			Fn:      luaInspect,
		},
	)
	for _, l := range logLevels {
		Register(Function{Module: "log", Name: l.name,
			Params: []Param{
				{Name: "message", Type: "string"},
				{Name: "fields", Type: "table?", Doc: "key/value pairs added to the line"},
			},
			Doc: l.doc,
			Fn:  logFunction(l.level),
		})
	}
	RegisterValue(Value{Name: "args", Type: "string[]",
		Doc: "The command-line arguments after the script's name (also ... in the script's main chunk)."})
	RegisterClass(Class{Name: "InspectOptions", Doc: "Options of inspect.", Fields: []Field{
		{Name: "depth", Type: "integer?", Doc: fmt.Sprintf("how many levels of nested tables to show (default %d)", defaultInspectDepth)},
	}})
}

// luaSleep is sleep(seconds).
func luaSleep(a args) int {
	d := a.seconds(1)
	ctx := Context(a.L)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return 0
	case <-ctx.Done():
		a.L.RaiseError("%s interrupted: %v", a.fn.QualifiedName(), context.Cause(ctx))
		return 0
	}
}

// luaEnv is env(name[, default]).
func luaEnv(a args) int {
	name := a.string(1)
	def := a.get(2)
	if def != lua.LNil {
		def = lua.LString(a.string(2))
	}
	if v, ok := helpers(a.L).lookupEnv(name); ok {
		a.L.Push(lua.LString(v))
	} else {
		a.L.Push(def)
	}
	return 1
}

// luaInspect is inspect(value[, opts]).
func luaInspect(a args) int {
	depth := a.options(2).int("depth", defaultInspectDepth, 0, math.MaxInt32)
	a.L.Push(lua.LString(InspectDepth(a.L, a.get(1), depth)))
	return 1
}

// logFunction returns log.<level>(message[, fields]): one record on the
// state's logger, with fields as attributes in sorted key order.
func logFunction(level slog.Level) func(a args) int {
	return func(a args) int {
		L := a.L
		message := L.ToStringMeta(a.any(1)).String()
		fields := a.optTable(2)
		logger := helpers(L).logger
		ctx := Context(L)
		if !logger.Enabled(ctx, level) {
			return 0
		}
		var attrs []slog.Attr
		if fields != nil {
			for _, k := range sortedKeys(fields) {
				attrs = append(attrs, logAttr(L, L.ToStringMeta(k).String(), fields.RawGet(k)))
			}
		}
		logger.LogAttrs(ctx, level, message, attrs...)
		return 0
	}
}

// logAttr converts one field of a log call: scalars keep their type,
// tables are rendered as JSON (or with inspect when JSON cannot hold them).
func logAttr(L *lua.LState, key string, v lua.LValue) slog.Attr {
	switch v := v.(type) {
	case lua.LString:
		return slog.String(key, string(v))
	case lua.LBool:
		return slog.Bool(key, bool(v))
	case lua.LNumber:
		f := float64(v)
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return slog.Int64(key, int64(f))
		}
		return slog.Float64(key, f)
	case *lua.LTable:
		if b, err := ToJSON(L, v); err == nil {
			return slog.Any(key, jsonText(b))
		}
	}
	return slog.String(key, Inspect(L, v))
}

// jsonText is JSON that log handlers write as is: nested in JSON lines,
// as the text itself in text lines.
type jsonText []byte

// MarshalJSON returns the JSON itself.
func (j jsonText) MarshalJSON() ([]byte, error) { return j, nil }

// String returns the JSON text, for text handlers.
func (j jsonText) String() string { return string(j) }

// defaultInspectDepth is how many levels of nested tables inspect shows.
const defaultInspectDepth = 8

// inspectWidth is the longest table rendering kept on one line.
const inspectWidth = 72

// Inspect renders v readably, as inspect(v) does: strings quoted, tables
// with their sequence first and other keys sorted, short tables on one line
// and longer ones indented, cycles shown as <cycle>. log.* renders with it
// the fields JSON cannot hold.
func Inspect(L *lua.LState, v lua.LValue) string {
	return InspectDepth(L, v, defaultInspectDepth)
}

// InspectDepth is Inspect showing at most depth levels of nested tables;
// deeper tables are shown as {...}.
func InspectDepth(L *lua.LState, v lua.LValue, depth int) string {
	in := inspector{L: L, maxDepth: depth, visiting: map[*lua.LTable]bool{}}
	return in.value(v, 0)
}

// inspector renders one value for Inspect.
type inspector struct {
	L        *lua.LState
	maxDepth int
	// visiting holds the tables on the path being rendered, to find cycles.
	visiting map[*lua.LTable]bool
}

func (in *inspector) value(v lua.LValue, depth int) string {
	switch v := v.(type) {
	case lua.LString:
		return strconv.Quote(string(v))
	case *lua.LTable:
		return in.table(v, depth)
	case *lua.LFunction:
		if v.IsG {
			return "<builtin function>"
		}
		return fmt.Sprintf("<function %s:%d>", v.Proto.SourceName, v.Proto.LineDefined)
	case *lua.LUserData:
		if mt, ok := v.Metatable.(*lua.LTable); ok && mt.RawGetString("__tostring") != lua.LNil {
			return in.L.ToStringMeta(v).String()
		}
		return "<" + typeName(v) + ">"
	case *lua.LState:
		return "<thread>"
	case *lua.LChannel:
		return "<channel>"
	default:
		return v.String() // nil, booleans, numbers
	}
}

func (in *inspector) table(t *lua.LTable, depth int) string {
	if in.visiting[t] {
		return "<cycle>"
	}
	keys := sortedKeys(t)
	if len(keys) == 0 {
		if name, ok := jsonMarkerName(in.L, metatableOf(t)); ok {
			return name + "{}"
		}
		return "{}"
	}
	if depth >= in.maxDepth {
		return "{...}"
	}
	in.visiting[t] = true
	defer delete(in.visiting, t)

	items := make([]string, 0, len(keys))
	n := sequenceLength(t)
	length, multiline := 0, false
	for _, k := range keys {
		item := in.value(t.RawGet(k), depth+1)
		if i, ok := k.(lua.LNumber); !ok || float64(i) > float64(n) || float64(i) != math.Trunc(float64(i)) {
			item = in.key(k, depth) + " = " + item
		}
		items = append(items, item)
		length += len(item) + 2
		multiline = multiline || strings.Contains(item, "\n")
	}
	if !multiline && length+4 <= inspectWidth {
		return "{ " + strings.Join(items, ", ") + " }"
	}
	var b strings.Builder
	b.WriteString("{\n")
	for _, item := range items {
		b.WriteString("  ")
		b.WriteString(strings.ReplaceAll(item, "\n", "\n  "))
		b.WriteString(",\n")
	}
	b.WriteString("}")
	return b.String()
}

// key renders a table key: name for identifiers, [value] otherwise.
func (in *inspector) key(k lua.LValue, depth int) string {
	if s, ok := k.(lua.LString); ok && IsName(string(s)) {
		return string(s)
	}
	return "[" + in.value(k, depth+1) + "]"
}

// metatableOf returns t's metatable, or nil.
func metatableOf(t *lua.LTable) *lua.LTable {
	mt, _ := t.Metatable.(*lua.LTable)
	return mt
}

// sequenceLength returns n such that t[1..n] are all non-nil and t[n+1] is
// nil.
func sequenceLength(t *lua.LTable) int {
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	return n
}

// sortedKeys returns the keys of t in a stable order: the sequence 1..n
// first, then numbers, strings, booleans and other values, each ascending.
func sortedKeys(t *lua.LTable) []lua.LValue {
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
	rank := func(v lua.LValue) int {
		switch v.Type() {
		case lua.LTNumber:
			return 0
		case lua.LTString:
			return 1
		case lua.LTBool:
			return 2
		}
		return 3
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		switch a := a.(type) {
		case lua.LNumber:
			return a < b.(lua.LNumber)
		case lua.LString:
			return a < b.(lua.LString)
		case lua.LBool:
			return !bool(a) && bool(b.(lua.LBool))
		}
		return a.Type().String()+a.String() < b.Type().String()+b.String()
	})
	return keys
}

// IsName reports whether s is a Lua name, one that may follow a dot (t.name):
// a letter or _, then letters, digits or _, and not a reserved word. Printing
// (inspect, JSON paths, test reports) and completion use it to choose
// between t.name and t["some key"].
func IsName(s string) bool {
	if s == "" || reservedWords[s] {
		return false
	}
	for i, r := range s {
		if r != '_' && !('a' <= r && r <= 'z') && !('A' <= r && r <= 'Z') && !(i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// reservedWords are Lua 5.1's keywords, which cannot be names.
var reservedWords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "if": true, "in": true, "local": true,
	"nil": true, "not": true, "or": true, "repeat": true, "return": true, "then": true,
	"true": true, "until": true, "while": true,
}
