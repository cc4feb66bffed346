package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"wps/engine"
	"wps/luatest"
	"wps/webpubsub/recording"
)

const testDescription = `Run the Lua tests in PATH (files, or folders searched recursively for
*_test.lua; default: the current folder, skipping testdata, node_modules and
folders starting with . or _). Tests use busted's names: describe, it,
pending, before_each, after_each, setup and teardown; and luassert's
assertions: assert.equal, same, truthy, falsy, error, match, near, is_nil,
is_true, is_false, is_string (and the other types), with not_/is_not/are_not
to negate and is/are/has as in busted (assert.are.same, assert.is_not_nil,
assert.has_error). A failure shows the test's full name, the file:line of
the failing assertion and, for same, the path to the first difference.

Fixtures: the REST calls of foo_test.lua are replayed from
foo_test.fixture.json beside it (the Azure SDK test-proxy JSON shape), with
no network: a request that matches no recorded entry fails the test with a
report against the closest one. Without a fixture, or with --record, the
tests run against --connection-string/$WEBPUBSUB_CONNECTION_STRING or the
embedded service and the fixture is written, with keys, connection strings,
tokens and the host redacted. --live runs against the service and writes
nothing. Client connections (wps.connect) are not recorded: open them only
when fixture.mode ~= "replay", or run such files with --live.

A test file also has run_script(path, args...) (run a runbook as wps run
does; returns {status, output, error}), fixture.mode, fixture.variable(name,
value_or_fn) (a value drawn when recording, replayed from the fixture),
fixture.requests() (the requests the test made) and fixture.client(opts).

The run ends with "N passed, N failed" (and ", N skipped") and exits 1 if a
test failed or no test ran (unless --allow-empty), 2 on a usage mistake.

Examples:
  wps test                                  # every *_test.lua below here
  wps test -v --run 'announce' tests/lua
  wps test --record tests/lua/runbooks/kick_user_test.lua
  WEBPUBSUB_CONNECTION_STRING=... wps test --live tests/lua/runbooks
  wps test --format tap tests/ > results.tap
  wps test --junit report.xml tests/`

// patternsFlag is a repeatable string flag.
type patternsFlag []string

func (p *patternsFlag) String() string { return strings.Join(*p, ", ") }
func (p *patternsFlag) Set(s string) error {
	*p = append(*p, s)
	return nil
}

func runTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("test", "[flags] [PATH...]", testDescription, stdout)
	flags := addScriptFlags(fs, "fail a test (or hook) that runs longer than this `duration`; 0 means no limit", 10*time.Second)
	run := fs.String("run", "", "run only the tests whose full name matches this `regexp`")
	list := fs.Bool("list", false, "list the tests (file:line: name) instead of running them")
	verbose := fs.Bool("v", false, "show every test and its output, not only failures")
	format := fs.String("format", "text", "`format` of the report on stdout: text, tap or json")
	junit := fs.String("junit", "", "also write a JUnit XML report to this `file`")
	record := fs.Bool("record", false, "record every file against the service and write its fixture, even if one exists")
	live := fs.Bool("live", false, "run against the service, without fixtures, writing nothing")
	strict := fs.Bool("strict", false, "fail when recorded requests are left unused")
	ignoreAPIVersion := fs.Bool("ignore-api-version", false, "match requests whatever their api-version, so older recordings replay")
	allowEmpty := fs.Bool("allow-empty", false, "succeed when no test ran")
	var redact patternsFlag
	fs.Var(&redact, "redact", "also redact this `regexp` from recorded fixtures (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *record && *live {
		return usagef("--record and --live exclude each other")
	}
	if *format != "text" && *format != "tap" && *format != "json" {
		return usagef("invalid --format %q: use text, tap or json", *format)
	}
	var runRE *regexp.Regexp
	if *run != "" {
		var err error
		if runRE, err = regexp.Compile(*run); err != nil {
			return usagef("invalid --run: %v", err)
		}
	}
	engineOpts, err := flags.engineOptions(stdout, stderr)
	if err != nil {
		return err
	}
	opts := luatest.Options{
		Target:    engineOpts.Target,
		ReplayHub: flags.hub,
		Sandbox:   flags.sandbox,
		NewLogger: func(w io.Writer) *slog.Logger {
			logger, _ := newLogger(w, flags.logLevel, flags.logFormat)
			return logger
		},
		Timeout: flags.timeout, Run: runRE, List: *list, Verbose: *verbose,
		Format: *format, JUnit: *junit, Record: *record, Live: *live, Strict: *strict,
		IgnoreAPIVersion: *ignoreAPIVersion, AllowEmpty: *allowEmpty, Redact: redact,
		Stdout: stdout, Stderr: stderr,
	}
	for _, p := range redact {
		if _, err := recording.CheckPattern(p); err != nil {
			return usagef("--redact: %v", err)
		}
	}
	_, err = luatest.Run(ctx, fs.Args(), opts)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, luatest.ErrNoTests):
		return fmt.Errorf("no test ran (no *_test.lua found, or --run selected none); --allow-empty accepts that")
	case engine.ExitStatus(err) != engine.StatusFailure:
		// Interrupted: the report has said so.
		return &reportedError{err}
	}
	var failed *luatest.FailedError
	if errors.As(err, &failed) {
		return &reportedError{err}
	}
	return err
}
