package luaapi_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"wps/engine"
	"wps/luaapi"
)

// These tests run flags.parse in states of an engine, as scripts do, so
// that its endings (--help, usage mistakes) go through the engine's exit.

// runFlags runs src in a fresh sandboxed state of an engine and returns the
// first result as JSON (an empty list reads {}), what the chunk printed,
// and the error of the run.
func runFlags(t *testing.T, src string) (string, string, error) {
	t.Helper()
	var out bytes.Buffer
	e := engine.New(engine.Options{
		Sandbox:   true,
		Stdout:    &out,
		LookupEnv: func(string) (string, bool) { return "", false },
		Host:      "wps run",
		HostFlags: []string{"timeout", "sandbox"},
	})
	t.Cleanup(func() { e.Close(context.Background()) })
	session, err := e.NewSession(engine.RunOptions{})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer session.Close()
	script, err := engine.Compile("flags_test", src)
	if err != nil {
		t.Fatalf("compiling %q: %v", src, err)
	}
	values, err := session.Exec(context.Background(), script)
	if err != nil || len(values) == 0 {
		return "", out.String(), err
	}
	data, err := luaapi.ToJSON(session.State(), values[0])
	if err != nil {
		t.Fatalf("encoding the result: %v", err)
	}
	return string(data), out.String(), nil
}

// allKinds is a spec with every kind of flag.
const allKinds = `{group = "string", ttl = "number", json = "boolean", tag = {"string"}}`

func TestFlagsParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		argv string // a Lua list
		want string // {opts, rest} as JSON
	}{
		{"AllKinds", `{"--group", "ops", "--ttl", "60", "--json", "--tag", "a", "--tag", "b", "hello", "world"}`,
			`[{"group":"ops","json":true,"tag":["a","b"],"ttl":60},["hello","world"]]`},
		{"Absent", `{"hello"}`, `[{"json":false,"tag":{}},["hello"]]`},
		{"EqualsForm", `{"--group=ops", "--ttl=1.5", "--tag=k=v", "--tag="}`,
			`[{"group":"ops","json":false,"tag":["k=v",""],"ttl":1.5},{}]`},
		{"FlagsBetweenWords", `{"grant", "--json", "sendToGroup", "--ttl", "-5", "conn1"}`,
			`[{"json":true,"tag":{},"ttl":-5},["grant","sendToGroup","conn1"]]`},
		{"ValueStartingWithDashes", `{"--group", "--json"}`, `[{"group":"--json","json":false,"tag":{}},{}]`},
		{"DoubleDashEndsFlags", `{"--json", "--", "--group", "-x", "--help", "--"}`,
			`[{"json":true,"tag":{}},["--group","-x","--help","--"]]`},
		{"SingleDashIsAWord", `{"-", "x"}`, `[{"json":false,"tag":{}},["-","x"]]`},
		{"NumbersInArgv", `{"--ttl", 30, 7}`, `[{"json":false,"tag":{},"ttl":30},["7"]]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := runFlags(t, `return {flags.parse(`+tc.argv+`, `+allKinds+`)}`)
			if err != nil || got != tc.want {
				t.Errorf("flags.parse(%s): %s, %v\nwant %s", tc.argv, got, err, tc.want)
			}
		})
	}
}

func TestFlagsParse_UsageMistakes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		argv    string
		message string
	}{
		{"UnknownFlag", `{"--grup", "ops"}`, "unknown flag --grup"},
		{"UnknownFlagWithValue", `{"--grup=ops"}`, "unknown flag --grup"},
		{"FlagOfWpsRun", `{"--timeout", "30s", "hi"}`, "unknown flag --timeout: it is a flag of wps run, so it goes before the script's name"},
		{"SingleDashFlag", `{"-g", "ops"}`, "unknown flag -g: flags start with two dashes; put -- before words that start with -"},
		{"MissingValue", `{"hello", "--group"}`, "flag --group needs a value"},
		{"MissingListValue", `{"--tag"}`, "flag --tag needs a value"},
		{"BadNumber", `{"--ttl", "soon"}`, `flag --ttl needs a number, got "soon"`},
		{"EmptyNumber", `{"--ttl="}`, `flag --ttl needs a number, got ""`},
		{"InfiniteNumber", `{"--ttl", "inf"}`, `flag --ttl needs a number, got "inf"`},
		{"BooleanWithValue", `{"--json=false"}`, "flag --json takes no value"},
		{"GivenTwice", `{"--group", "a", "--group", "b"}`, "flag --group given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out, err := runFlags(t, `flags.parse(`+tc.argv+`, `+allKinds+`); print("not reached")`)
			var exit *engine.ExitError
			if !errors.As(err, &exit) || exit.Code != 2 {
				t.Fatalf("error %v, want exit status 2", err)
			}
			if want := tc.message + " (run with --help for usage)"; exit.Message != want {
				t.Errorf("message %q, want %q", exit.Message, want)
			}
			if out != "" {
				t.Errorf("printed %q", out)
			}
		})
	}
}

func TestFlagsParse_Help(t *testing.T) {
	for _, argv := range []string{`{"-h"}`, `{"--help"}`, `{"hello", "--json", "--help", "--grup"}`} {
		_, out, err := runFlags(t, `flags.parse(`+argv+`, `+allKinds+`, "Usage: x [flags] WORD..."); print("not reached")`)
		var exit *engine.ExitError
		if !errors.As(err, &exit) || exit.Code != 0 || exit.Message != "" {
			t.Errorf("%s: error %v, want exit status 0", argv, err)
		}
		if out != "Usage: x [flags] WORD...\n" {
			t.Errorf("%s: printed %q, want the usage", argv, out)
		}
	}
	t.Run("DefaultUsage", func(t *testing.T) {
		_, out, _ := runFlags(t, `require("flags").parse({"--help"}, `+allKinds+`)`)
		want := "Flags:\n  --group STRING\n  --json\n  --tag STRING (repeatable)\n  --ttl NUMBER\n  -h, --help\n"
		if out != want {
			t.Errorf("printed %q, want %q", out, want)
		}
	})
}

func TestFlagsUsageError(t *testing.T) {
	_, out, err := runFlags(t, `flags.usage_error("missing GROUP"); print("not reached")`)
	var exit *engine.ExitError
	if !errors.As(err, &exit) || exit.Code != 2 || exit.Message != "missing GROUP (run with --help for usage)" || out != "" {
		t.Errorf("error %v, printed %q; want exit status 2 with the message and its hint", err, out)
	}
	_, _, err = runFlags(t, `flags.usage_error()`)
	if err == nil || !strings.Contains(err.Error(), "bad argument #1 to 'flags.usage_error' (string expected, got nil)") {
		t.Errorf("without a message: %v", err)
	}
}

func TestFlagsParse_BadSpec(t *testing.T) {
	for _, tc := range []struct {
		name string
		call string
		want string
	}{
		{"UnknownKind", `flags.parse({}, {ttl = "int"})`, `bad argument #2 to 'flags.parse' (flag "ttl": kind must be "string", "number", "boolean" or {"string"}, got "int")`},
		{"ListOfNumbers", `flags.parse({}, {ttl = {"number"}})`, `flag "ttl": kind must be`},
		{"NameWithDashes", `flags.parse({}, {["--ttl"] = "number"})`, `bad flag name "--ttl": write it without dashes`},
		{"Help", `flags.parse({}, {help = "boolean"})`, `flag "help" is built in`},
		{"NotAList", `flags.parse("--json", {json = "boolean"})`, `bad argument #1 to 'flags.parse' (table expected, got string)`},
		{"ItemNotAString", `flags.parse({"--json", {}}, {json = "boolean"})`, `bad argument #1 to 'flags.parse' (item 2: string expected, got table)`},
		{"UsageNotAString", `flags.parse({}, {}, {})`, `bad argument #3 to 'flags.parse' (string expected, got table)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runFlags(t, tc.call)
			var scriptErr *engine.Error
			if !errors.As(err, &scriptErr) || scriptErr.Kind != engine.KindRuntime || !strings.Contains(scriptErr.Message, tc.want) {
				t.Errorf("error %v, want a runtime error containing %q", err, tc.want)
			}
		})
	}
}
