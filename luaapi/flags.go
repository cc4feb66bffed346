package luaapi

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The flags module: flags.parse, the command-line parser of runbooks, and
// flags.usage_error. Both end a script early through Exit (exit.go), the
// one way a script ends with a status, which the engine's os.exit uses too.

func init() {
	Register(
		Function{Module: "flags", Name: "parse",
			Params: []Param{
				{Name: "argv", Type: "string[]", Doc: "the words to parse, usually args"},
				{Name: "spec", Type: "table<string, string|string[]>",
					Doc: `flag name → "string" or "number" (nil when absent), "boolean" (false when absent), or {"string"} for a repeatable flag (a list, {} when absent)`},
				{Name: "usage", Type: "string?", Doc: "what -h/--help prints (default: a list of the flags)"},
			},
			Returns: "table, string[]",
			Doc: "Parse flags (--name value, --name=value, --switch; -- ends them) into opts and the other words; " +
				"-h/--help prints usage and exits 0, a usage mistake exits 2 with a one-line error.",
			Fn: luaFlagsParse,
		},
		Function{Module: "flags", Name: "usage_error",
			Params: []Param{{Name: "message", Type: "string", Doc: `what is wrong, e.g. "missing GROUP"`}},
			Doc:    "End the script with status 2 and message on stderr, as flags.parse does for a bad flag: for the words the script checks itself.",
			Fn:     luaFlagsUsageError,
		},
	)
}

// flagKind is how a flag takes its value.
type flagKind int

const (
	flagString  flagKind = iota // --name value
	flagNumber                  // --name 12.5
	flagBoolean                 // --name, no value
	flagList                    // --name a --name b: a list of strings
)

// errHelp is what parseFlags returns for -h or --help.
var errHelp = errors.New("help requested")

// luaFlagsParse is flags.parse(argv, spec[, usage]).
func luaFlagsParse(a args) int {
	L := a.L
	argv := checkWords(a, 1)
	spec := checkFlagSpec(a, 2)
	usage := a.optString(3, "")
	if usage == "" {
		usage = defaultUsage(spec)
	}
	opts, rest, err := parseFlags(L, argv, spec)
	if errors.Is(err, errHelp) {
		printUsage(a, usage)
		Exit(L, 0, "")
	}
	if err != nil {
		usageError(L, err.Error())
	}
	words := L.CreateTable(len(rest), 0)
	for _, w := range rest {
		words.Append(lua.LString(w))
	}
	L.Push(opts)
	L.Push(words)
	return 2
}

// luaFlagsUsageError is flags.usage_error(message).
func luaFlagsUsageError(a args) int {
	usageError(a.L, a.string(1))
	return 0
}

// usageError ends the script with status 2 and message, followed by a hint
// to use --help.
func usageError(L *lua.LState, message string) {
	Exit(L, 2, message+" (run with --help for usage)")
}

// checkWords returns argument i, a list, as strings (numbers are accepted,
// as Lua does), raising an argument error for anything else.
func checkWords(a args, i int) []string {
	t := a.table(i)
	words := make([]string, 0, t.Len())
	for j := 1; j <= t.Len(); j++ {
		switch v := t.RawGetInt(j).(type) {
		case lua.LString:
			words = append(words, string(v))
		case lua.LNumber:
			words = append(words, v.String())
		default:
			a.error(i, fmt.Sprintf("item %d: string expected, got %s", j, typeName(v)))
		}
	}
	return words
}

// checkFlagSpec reads the spec table that is argument i, raising an
// argument error naming the flag for a kind it does not know: a mistake in
// the script, not in its command line.
func checkFlagSpec(a args, i int) map[string]flagKind {
	t := a.table(i)
	spec := map[string]flagKind{}
	var problem string
	t.ForEach(func(k, v lua.LValue) {
		if problem != "" {
			return
		}
		name, ok := k.(lua.LString)
		if !ok {
			problem = fmt.Sprintf("flag names must be strings, got %s", typeName(k))
			return
		}
		if name == "" || strings.HasPrefix(string(name), "-") || strings.ContainsAny(string(name), "= ") {
			problem = fmt.Sprintf("bad flag name %q: write it without dashes, e.g. \"group\"", string(name))
			return
		}
		if name == "h" || name == "help" {
			problem = fmt.Sprintf("flag %q is built in: -h and --help print the usage", string(name))
			return
		}
		kind, ok := flagKindOf(v)
		if !ok {
			problem = fmt.Sprintf(`flag %q: kind must be "string", "number", "boolean" or {"string"}, got %s`,
				string(name), Inspect(a.L, v))
			return
		}
		spec[string(name)] = kind
	})
	if problem != "" {
		a.error(i, problem)
	}
	return spec
}

// flagKindOf returns the kind a spec value declares.
func flagKindOf(v lua.LValue) (flagKind, bool) {
	switch v := v.(type) {
	case lua.LString:
		switch v {
		case "string":
			return flagString, true
		case "number":
			return flagNumber, true
		case "boolean":
			return flagBoolean, true
		}
	case *lua.LTable:
		entries := 0
		v.ForEach(func(_, _ lua.LValue) { entries++ })
		if entries == 1 && v.RawGetInt(1) == lua.LString("string") {
			return flagList, true
		}
	}
	return 0, false
}

// parseFlags reads argv left to right: flags (by spec) into opts, other
// words into rest. Flags and words may be mixed; "--" ends the flags. It
// returns errHelp at -h or --help, or an error naming the usage mistake.
func parseFlags(L *lua.LState, argv []string, spec map[string]flagKind) (*lua.LTable, []string, error) {
	opts := L.NewTable()
	for name, kind := range spec {
		switch kind {
		case flagBoolean:
			opts.RawSetString(name, lua.LFalse)
		case flagList:
			opts.RawSetString(name, L.NewTable())
		}
	}
	given := map[string]bool{}
	var rest []string
	for i := 0; i < len(argv); i++ {
		word := argv[i]
		switch {
		case word == "--":
			return opts, append(rest, argv[i+1:]...), nil
		case word == "-h" || word == "--help":
			return nil, nil, errHelp
		case word == "-" || !strings.HasPrefix(word, "-"):
			rest = append(rest, word)
			continue
		case !strings.HasPrefix(word, "--"):
			return nil, nil, fmt.Errorf("unknown flag %s: flags start with two dashes; put -- before words that start with -", word)
		}
		name, value, hasValue := strings.Cut(word[2:], "=")
		kind, known := spec[name]
		if host := helpers(L); !known && slices.Contains(host.hostFlags, name) {
			return nil, nil, fmt.Errorf("unknown flag --%s: it is a flag of %s, so it goes before the script's name", name, host.host)
		}
		if !known {
			return nil, nil, fmt.Errorf("unknown flag --%s", name)
		}
		if given[name] && kind != flagList {
			return nil, nil, fmt.Errorf("flag --%s given twice", name)
		}
		given[name] = true
		if kind == flagBoolean {
			if hasValue {
				return nil, nil, fmt.Errorf("flag --%s takes no value", name)
			}
			opts.RawSetString(name, lua.LTrue)
			continue
		}
		if !hasValue {
			if i+1 == len(argv) {
				return nil, nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			value = argv[i]
		}
		switch kind {
		case flagString:
			opts.RawSetString(name, lua.LString(value))
		case flagNumber:
			n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				return nil, nil, fmt.Errorf("flag --%s needs a number, got %q", name, value)
			}
			opts.RawSetString(name, lua.LNumber(n))
		case flagList:
			opts.RawGetString(name).(*lua.LTable).Append(lua.LString(value))
		}
	}
	return opts, rest, nil
}

// defaultUsage lists the flags of spec, for --help when the script gives
// no usage text.
func defaultUsage(spec map[string]flagKind) string {
	names := make([]string, 0, len(spec))
	for name := range spec {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("Flags:\n")
	for _, name := range names {
		switch spec[name] {
		case flagString:
			fmt.Fprintf(&b, "  --%s STRING\n", name)
		case flagNumber:
			fmt.Fprintf(&b, "  --%s NUMBER\n", name)
		case flagBoolean:
			fmt.Fprintf(&b, "  --%s\n", name)
		case flagList:
			fmt.Fprintf(&b, "  --%s STRING (repeatable)\n", name)
		}
	}
	b.WriteString("  -h, --help")
	return b.String()
}

// printUsage writes usage with the state's print, so that it goes where
// the script's output goes.
func printUsage(a args, usage string) {
	L := a.L
	print, ok := L.GetGlobal("print").(*lua.LFunction)
	if !ok {
		L.RaiseError("%s: cannot print the usage: the global print is not a function", a.fn.QualifiedName())
	}
	L.Push(print)
	L.Push(lua.LString(usage))
	L.Call(1, 0)
}
