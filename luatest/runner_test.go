package luatest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"wps/engine"
	"wps/webpubsub/recording"
	"wps/webpubsub/service"
)

// writeFiles writes files (name → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// noNetwork is a transport that fails the test if anything reaches it.
type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(req *http.Request) (*http.Response, error) {
	n.t.Errorf("a request left the process: %s %s", req.Method, req.URL)
	return nil, errors.New("no network in this test")
}

// runTests runs paths with opts (Stdout captured, the environment
// ignored) and returns the report.
func runTests(t *testing.T, opts Options, paths ...string) (string, *Summary, error) {
	t.Helper()
	var out bytes.Buffer
	opts.Stdout, opts.Stderr = &out, &out
	if opts.LookupEnv == nil {
		opts.LookupEnv = func(string) (string, bool) { return "", false }
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sum, err := Run(ctx, paths, opts)
	return out.String(), sum, err
}

func TestAssertionsPass(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a_test.lua": `
describe("assert", function()
  it("has luassert's names", function()
    assert.equal(1, 1); assert.equals("a", "a"); assert.are.equal(true, true)
    assert.not_equal(1, 2); assert.is_not.equal(1, 2); assert.are_not.equal("a", "b")
    assert.same({1, {a = {b = 2}}}, {1, {a = {b = 2}}}); assert.are.same({}, {})
    assert.not_same({1}, {2}); assert.are_not.same({a = 1}, {a = 1, b = 2})
    assert.truthy(0); assert.is_truthy(""); assert.falsy(nil); assert.is_falsy(false)
    assert.is_not.truthy(false); assert.not_falsy(1)
    assert.error(function() error("boom") end)
    assert.has_error(function() error("the boom happened") end, "boom")
    assert.has.errors(function() error({code = 7}) end, {code = 7})
    assert.error_matches(function() error("x = 42") end, "x = %d+")
    assert.has_no.errors(function() end); assert.not_error(function() end)
    assert.match("^h.l", "hello"); assert.matches("%d", "a1"); assert.no.match("z", "abc")
    assert.match("a.b", "xa.by", 1, true)
    assert.is_nil(nil); assert.is_not_nil(0); assert.Nil(nil); assert.not_nil(false)
    assert.is_true(true); assert.is_false(false); assert.True(true); assert.is_not_true(1)
    assert.is_string("s"); assert.is_number(1); assert.is_table({}); assert.is_function(print)
    assert.is_boolean(false); assert.is_not_string(1)
    assert.near(1.0, 1.05, 0.1)
    local a, b = assert(1, "never"), nil
    assert.equal(1, a)
    local ok, err = pcall(assert, false, "custom")
    assert.is_false(ok); assert.equal("custom", err)
  end)
end)
`})
	out, sum, err := runTests(t, Options{Transport: noNetwork{t}}, dir)
	if err != nil || sum.Passed != 1 {
		t.Fatalf("err %v\n%s", err, out)
	}
}

// failures runs a file whose tests all fail and returns each test's
// message by name.
func failures(t *testing.T, src string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f_test.lua": src})
	out, sum, err := runTests(t, Options{Transport: noNetwork{t}, Timeout: 5 * time.Second}, dir)
	var failed *FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("err %v\n%s", err, out)
	}
	msgs := map[string]string{}
	for _, r := range sum.Files[0].Results {
		if r.Status != Failed {
			t.Errorf("%s: %s, want failed", r.Name, r.Status)
		}
		msgs[r.Name] = r.Message
	}
	return msgs
}

func TestAssertionFailureReports(t *testing.T) {
	msgs := failures(t, `describe("outer", function()
  describe("inner", function()
    it("same", function()
      assert.same({members = {{id = "a", user = "alice"}, {id = "b", user = "bob"}}},
                  {members = {{id = "a", user = "alice"}, {id = "b", user = "bobby"}}})
    end)
  end)
  it("equal", function() assert.equal("expected", "actual") end)
  it("missing key", function() assert.same({a = 1, b = 2}, {a = 1}) end)
  it("message", function() assert.is_true(false, "the flag must be set") end)
  it("error", function() assert.has_error(function() error("other") end, "boom") end)
  it("no error", function() assert.error(function() end) end)
  it("runtime", function() local t = nil; return t.x end)
  it("typo", function() assert.equl(1, 1) end)
end)`)
	want := map[string][]string{
		"outer inner same":  {"f_test.lua:4: assert.same failed", "first difference at .members[2].user:", `expected: "bob"`, `actual:   "bobby"`},
		"outer equal":       {"f_test.lua:8: assert.equal failed", `expected: "expected"`, `actual:   "actual"`},
		"outer missing key": {"first difference at .b:", "expected: 2", "actual:   nothing"},
		"outer message":     {"f_test.lua:10: the flag must be set\nassert.is_true failed"},
		"outer error":       {`expected an error matching "boom"`, `f_test.lua:11: other"`},
		"outer no error":    {"the function returned without raising an error"},
		"outer runtime":     {"f_test.lua:13:", "stack traceback:"},
		"outer typo":        {"assert.equl: no such assertion"},
	}
	for name, parts := range want {
		msg, ok := msgs[name]
		if !ok {
			t.Errorf("no result for %q (have %v)", name, msgs)
			continue
		}
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				t.Errorf("%s: message lacks %q:\n%s", name, p, msg)
			}
		}
	}
	if strings.Contains(msgs["outer inner same"], "alice") {
		t.Errorf("same shows whole tables, not the difference:\n%s", msgs["outer inner same"])
	}
}

func TestHooksRunInBustedOrder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"h_test.lua": `
log = {}
local function add(s) return function() log[#log + 1] = s end end
setup(add("setup"))
teardown(function() print(table.concat(log, ","))
  assert.equal("setup,be,t1,ae,setup inner,be,be inner,t2,ae inner,ae,teardown inner,be,t3,ae", table.concat(log, ","))
end)
before_each(add("be"))
after_each(add("ae"))
it("t1", add("t1"))
describe("inner", function()
  setup(add("setup inner"))
  teardown(add("teardown inner"))
  before_each(add("be inner"))
  after_each(add("ae inner"))
  it("t2", add("t2"))
end)
it("t3", add("t3"))
`})
	out, sum, err := runTests(t, Options{Transport: noNetwork{t}}, dir)
	if err != nil || sum.Passed != 3 || sum.Failed != 0 {
		t.Fatalf("err %v\n%s", err, out)
	}
}

func TestSetupFailureFailsTheBlock(t *testing.T) {
	msgs := failures(t, `describe("db", function()
  setup(function() error("cannot connect") end)
  it("a", function() end)
  it("b", function() end)
end)`)
	for _, name := range []string{"db a", "db b"} {
		if !strings.Contains(msgs[name], "setup failed: ") || !strings.Contains(msgs[name], "cannot connect") {
			t.Errorf("%s: %q", name, msgs[name])
		}
	}
}

func TestPendingAndOutput(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"p_test.lua": `
pending("declared pending")
it("without a function")
it("pending inside", function() print("before pending"); pending("not yet"); error("never") end)
it("passes quietly", function() print("hidden unless -v") end)
it("fails loudly", function() print("shown on failure"); log.info("a log line", {n = 1}); assert.falsy(true) end)
`})
	out, sum, err := runTests(t, Options{Transport: noNetwork{t}}, dir)
	if err == nil || sum.Passed != 1 || sum.Failed != 1 || sum.Skipped != 3 {
		t.Fatalf("err %v, summary %+v\n%s", err, sum, out)
	}
	for _, want := range []string{"shown on failure", "a log line", "FAIL fails loudly (" + filepath.Join(dir, "p_test.lua") + ":6", "1 passed, 1 failed, 3 skipped\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden unless -v") {
		t.Errorf("a passing test's output is shown without -v:\n%s", out)
	}
	if !strings.HasSuffix(out, "1 passed, 1 failed, 3 skipped\n") {
		t.Errorf("the report does not end with the closing line:\n%s", out)
	}
	out, _, _ = runTests(t, Options{Transport: noNetwork{t}, Verbose: true}, dir)
	for _, want := range []string{"hidden unless -v", "skip pending inside", "not yet", "ok   passes quietly"} {
		if !strings.Contains(out, want) {
			t.Errorf("-v report lacks %q:\n%s", want, out)
		}
	}
}

// TestStuckTestsDoNotHangTheRun runs a test stuck in a loop and one stuck
// inside a builtin that cannot be interrupted: both fail at their timeout,
// and the tests after them run, in a fresh state after the second.
func TestStuckTestsDoNotHangTheRun(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"s_test.lua": `
loaded = (loaded or 0) + 1
it("loops", function() while true do end end)
it("runs after a loop", function() assert.equal(1, loaded) end)
it("is stuck in a builtin", function() string.find(string.rep("a", 200000), ".-.-.-.-.-.-b") end)
it("runs after a hard stop, in a new state", function() assert.equal(1, loaded) end)
`})
	start := time.Now()
	out, sum, _ := runTests(t, Options{Transport: noNetwork{t}, Timeout: 300 * time.Millisecond, StopGrace: 200 * time.Millisecond}, dir)
	if sum.Passed != 2 || sum.Failed != 2 {
		t.Fatalf("summary %+v\n%s", sum, out)
	}
	if !strings.Contains(out, "timed out after 300ms (--timeout)") || !strings.Contains(out, "stopped hard") {
		t.Errorf("report:\n%s", out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the run took %s", d)
	}

	// A file that cannot be loaded again fails its remaining tests.
	marker := filepath.Join(dir, "loaded-once")
	writeFiles(t, dir, map[string]string{"s_test.lua": `
local f = io.open("` + marker + `")
if f then f:close(); error("loaded twice") end
io.open("` + marker + `", "w"):close()
it("is stuck in a builtin", function() string.find(string.rep("a", 200000), ".-.-.-.-.-.-b") end)
it("after", function() end)
it("last", function() end)
`})
	out, sum, _ = runTests(t, Options{Transport: noNetwork{t}, Timeout: 300 * time.Millisecond, StopGrace: 200 * time.Millisecond}, dir)
	if sum.Failed != 3 || !strings.Contains(out, "FAIL after (") || !strings.Contains(out, "could not be loaded again after a test that would not stop: ") ||
		!strings.Contains(out, "loaded twice") || !strings.Contains(out, "FAIL last (") {
		t.Errorf("summary %+v\n%s", sum, out)
	}
}

func TestRunListAndEmpty(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a_test.lua":              `describe("alpha", function() it("one", function() end) it("two", function() end) end)`,
		"sub/b_test.lua":          `it("beta", function() end)`,
		"testdata/c_test.lua":     `it("skipped folder", function() error("x") end)`,
		".hidden/d_test.lua":      `it("skipped folder", function() error("x") end)`,
		"node_modules/e_test.lua": `it("skipped folder", function() error("x") end)`,
		"helper.lua":              `error("not a test file")`,
	})
	out, sum, err := runTests(t, Options{Transport: noNetwork{t}}, dir)
	if err != nil || sum.Passed != 3 {
		t.Fatalf("err %v\n%s", err, out)
	}
	out, sum, err = runTests(t, Options{Transport: noNetwork{t}, Run: regexp.MustCompile("alpha t")}, dir)
	if err != nil || sum.Passed != 1 {
		t.Fatalf("--run: err %v\n%s", err, out)
	}
	out, _, err = runTests(t, Options{Transport: noNetwork{t}, List: true}, dir)
	want := filepath.Join(dir, "a_test.lua") + ":1: alpha one\n" + filepath.Join(dir, "a_test.lua") + ":1: alpha two\n" + filepath.Join(dir, "sub/b_test.lua") + ":1: beta\n"
	if err != nil || !strings.HasPrefix(out, want) {
		t.Errorf("--list: err %v\n%s\nwant\n%s", err, out, want)
	}
	_, _, err = runTests(t, Options{Transport: noNetwork{t}, Run: regexp.MustCompile("nothing")}, dir)
	if !errors.Is(err, ErrNoTests) {
		t.Errorf("no test ran: err %v", err)
	}
	_, _, err = runTests(t, Options{Transport: noNetwork{t}, Run: regexp.MustCompile("nothing"), AllowEmpty: true}, dir)
	if err != nil {
		t.Errorf("--allow-empty: err %v", err)
	}
}

// reportFixture is a file with a passing, a failing and a skipped test.
const reportFixture = `describe("suite", function()
  it("passes", function() end)
  it("fails <badly> & \"loudly\"", function() print("out"); assert.equal(1, 2) end)
  pending("waits")
end)`

func TestTAPReport(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"r_test.lua": reportFixture})
	out, _, _ := runTests(t, Options{Transport: noNetwork{t}, Format: "tap"}, dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "TAP version 13" || lines[1] != "ok 1 - suite passes" || lines[2] != `not ok 2 - suite fails <badly> & "loudly"` {
		t.Errorf("TAP:\n%s", out)
	}
	for _, want := range []string{"\n# " + filepath.Join(dir, "r_test.lua") + ":3\n", "# r_test.lua:3: assert.equal failed", "#   out", "\nok 3 - suite waits # SKIP pending\n", "\n1..3\n# 1 passed, 1 failed, 1 skipped\n"} {
		if !strings.Contains(out, strings.ReplaceAll(want, "r_test.lua:3: assert", filepath.Join(dir, "r_test.lua")+":3: assert")) {
			t.Errorf("TAP lacks %q:\n%s", want, out)
		}
	}
	for _, l := range lines {
		if !regexp.MustCompile(`^(TAP version 13|(not )?ok \d+ - .*|1\.\.\d+|#.*)$`).MatchString(l) {
			t.Errorf("not a TAP line: %q", l)
		}
	}
}

func TestJSONReport(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"r_test.lua": reportFixture})
	var stdout, stderr bytes.Buffer
	_, err := Run(context.Background(), []string{dir}, Options{Transport: noNetwork{t}, Format: "json", Stdout: &stdout, Stderr: &stderr})
	if err == nil {
		t.Fatal("want the failure")
	}
	var report struct {
		Passed, Failed, Skipped int
		Files                   []struct {
			Path  string
			Tests []struct {
				Name, File, Status, Message, Output string
				Line                                int
				DurationMS                          *float64 `json:"duration_ms"`
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
	}
	if report.Passed != 1 || report.Failed != 1 || report.Skipped != 1 || len(report.Files) != 1 || len(report.Files[0].Tests) != 3 {
		t.Fatalf("report %+v", report)
	}
	tests := report.Files[0].Tests
	if tests[1].Status != "failed" || tests[1].Line != 3 || !strings.Contains(tests[1].Message, "assert.equal failed") || tests[1].Output != "out\n" || tests[1].DurationMS == nil {
		t.Errorf("failed test: %+v", tests[1])
	}
	if tests[0].Status != "passed" || tests[2].Status != "skipped" {
		t.Errorf("tests %+v", tests)
	}
	if stderr.String() != "1 passed, 1 failed, 1 skipped\n" {
		t.Errorf("stderr %q", stderr.String())
	}
}

// TestJUnitReport checks the report against the elements and attributes
// the JUnit XML schema requires: testsuites; testsuite with name, tests and
// failures; testcase with name and classname; failure with message.
func TestJUnitReport(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"r_test.lua": reportFixture, "ok_test.lua": `it("fine", function() end)`})
	path := filepath.Join(t.TempDir(), "junit.xml")
	runTests(t, Options{Transport: noNetwork{t}, JUnit: path}, dir)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type attrs struct {
		Attrs []xml.Attr `xml:",any,attr"`
	}
	var doc struct {
		XMLName xml.Name
		attrs
		Suites []struct {
			attrs
			Cases []struct {
				attrs
				Failure *struct {
					attrs
					Text string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *attrs `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, data)
	}
	get := func(a attrs, name string) (string, bool) {
		for _, x := range a.Attrs {
			if x.Name.Local == name {
				return x.Value, true
			}
		}
		return "", false
	}
	require := func(what string, a attrs, names ...string) {
		for _, n := range names {
			if _, ok := get(a, n); !ok {
				t.Errorf("%s lacks the attribute %s", what, n)
			}
		}
	}
	if doc.XMLName.Local != "testsuites" || len(doc.Suites) != 2 {
		t.Fatalf("document:\n%s", data)
	}
	if v, _ := get(doc.attrs, "tests"); v != "4" {
		t.Errorf("testsuites tests=%q", v)
	}
	for _, s := range doc.Suites {
		require("testsuite", s.attrs, "name", "tests", "failures")
		for _, c := range s.Cases {
			require("testcase", c.attrs, "name", "classname")
			if c.Failure != nil {
				require("failure", c.Failure.attrs, "message")
			}
		}
	}
	suite := doc.Suites[0]
	if name, _ := get(suite.attrs, "name"); name != filepath.Join(dir, "ok_test.lua") {
		t.Errorf("first suite %q", name)
	}
	suite = doc.Suites[1]
	if f, _ := get(suite.attrs, "failures"); f != "1" {
		t.Errorf("failures=%q", f)
	}
	failed := suite.Cases[1]
	if name, _ := get(failed.attrs, "name"); name != `suite fails <badly> & "loudly"` || failed.Failure == nil {
		t.Fatalf("case %+v", failed)
	}
	if msg, _ := get(failed.Failure.attrs, "message"); !strings.Contains(msg, "assert.equal failed") || !strings.Contains(failed.Failure.Text, `expected: 1`) {
		t.Errorf("failure %+v", failed.Failure)
	}
	if suite.Cases[2].Skipped == nil {
		t.Errorf("pending test not skipped")
	}
}

// startService starts an embedded service with key and returns its
// connection string.
func startService(t *testing.T, key string) string {
	t.Helper()
	srv, err := service.Listen("127.0.0.1:0", service.Options{AccessKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv.ConnectionString
}

// TestRecordingLeavesNoTraceOfTheKey records a file that does its best to
// leak the key (in a message, a variable, a client token and its URL), then
// searches the fixture for the key in every form, and replays it.
func TestRecordingLeavesNoTraceOfTheKey(t *testing.T) {
	const key = "KnownKeyForTheLeakTest0123456789abcdefGHIJ="
	cs := startService(t, key)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"leak_test.lua": `
it("tries to leak the key", function()
  local cs = env("CS")
  local key = cs:match("AccessKey=([^;]+)")
  wps.send_to_all({connection_string = cs, note = "key " .. key})
  wps.send_to_group("g", "text with the key " .. key .. " and " .. cs)
  local token = wps.get_client_access_token{user_id = "u1"}
  wps.send_to_all({token = token.token, url = token.url})
  fixture.variable("cs", cs)
  fixture.variable("key", key)
  fixture.variable("url", token.url)
  fixture.variable("jwt", token.token)
  assert.is_true(wps.group_exists("g") ~= nil)
end)
`})
	lookup := func(name string) (string, bool) {
		if name == "CS" {
			return cs, true
		}
		return "", false
	}
	out, sum, err := runTests(t, Options{Target: engine.Target{ConnectionString: cs, Hub: "chat"}, LookupEnv: lookup, Record: true}, dir)
	if err != nil || sum.Passed != 1 {
		t.Fatalf("err %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "leak_test.fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(string(data))
	for _, form := range []string{key, strings.TrimRight(key, "="), base64.StdEncoding.EncodeToString([]byte(key))[:40], "127.0.0.1", "accesskey=k"} {
		if strings.Contains(lower, strings.ToLower(form)) {
			t.Errorf("the fixture holds %q:\n%s", form, data)
		}
	}
	if err := recording.Scan(data, key, cs); err != nil {
		t.Errorf("scan: %v", err)
	}
	if !strings.Contains(string(data), recording.PlaceholderHost) || !strings.Contains(string(data), `"wps.hub": "chat"`) {
		t.Errorf("fixture:\n%s", data)
	}
	if _, err := recording.Load(filepath.Join(dir, "leak_test.fixture.json")); err != nil {
		t.Errorf("the redacted fixture does not load: %v", err)
	}

	// A key inside a binary body cannot be redacted (it is stored as
	// base64): the fixture is refused, and the old one stays.
	old := string(data)
	writeFiles(t, dir, map[string]string{"leak_test.lua": `it("sends the key as bytes", function()
  wps.send_to_user("u", wps.binary(env("CS"):match("AccessKey=([^;]+)")))
end)`})
	out, _, err = runTests(t, Options{Target: engine.Target{ConnectionString: cs}, LookupEnv: lookup, Record: true}, dir)
	if err == nil || !strings.Contains(out, "FAIL (writing the fixture)") || !strings.Contains(out, "the fixture holds secrets: secret 1 (base64-encoded)") || strings.Contains(out, key) {
		t.Errorf("err %v\n%s", err, out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "leak_test.fixture.json")); string(data) != old {
		t.Errorf("the old fixture was replaced")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("files left: %v", entries)
	}
}

// recordAndReplay records dir's tests on the embedded service, then
// returns the options of a replay with no network.
func recordAndReplay(t *testing.T, dir string) Options {
	t.Helper()
	out, _, err := runTests(t, Options{}, dir)
	if err != nil {
		t.Fatalf("recording: %v\n%s", err, out)
	}
	return Options{Transport: noNetwork{t}}
}

func TestReplayMismatchFailsEvenWhenCaught(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"m_test.lua": `
it("sends", function()
  pcall(wps.send_to_group, "ops", {text = "hello", n = 1})
end)`})
	opts := recordAndReplay(t, dir)
	writeFiles(t, dir, map[string]string{"m_test.lua": `
it("sends", function()
  pcall(wps.send_to_group, "ops", {text = "hello", n = 2})
  print("after the call")
end)`})
	out, _, err := runTests(t, opts, dir)
	if err == nil {
		t.Fatalf("a changed body replayed:\n%s", out)
	}
	for _, want := range []string{"body differs at $.n: recorded 1, got 2", "(the test stopped at " + filepath.Join(dir, "m_test.lua") + ":4)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "after the call") {
		t.Errorf("the test went on after the mismatch:\n%s", out)
	}
}

func TestStrictFailsOnUnusedEntries(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"u_test.lua": `
it("checks twice", function()
  wps.user_exists("a")
  if not SKIP then wps.user_exists("b") end
end)`})
	opts := recordAndReplay(t, dir)
	writeFiles(t, dir, map[string]string{"u_test.lua": "SKIP = true\n" + `
it("checks twice", function()
  wps.user_exists("a")
  if not SKIP then wps.user_exists("b") end
end)`})
	out, _, err := runTests(t, opts, dir)
	if err != nil || !strings.Contains(out, "1 recorded request was not made: entry 1 (HEAD /api/hubs/hub/users/b)") {
		t.Errorf("err %v\n%s", err, out)
	}
	opts.Strict = true
	out, _, err = runTests(t, opts, dir)
	if err == nil || !strings.Contains(out, "(--strict)") {
		t.Errorf("--strict: err %v\n%s", err, out)
	}
}

func TestIgnoreAPIVersion(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"v_test.lua": `it("checks", function() assert.is_false(wps.user_exists("user1")) end)`})
	fixture := `{"Entries": [{"RequestUri": "https://fake/api/hubs/hub/users/user1?api-version=2023-07-01", "RequestMethod": "HEAD",
	  "RequestHeaders": {}, "RequestBody": null, "StatusCode": 404, "ResponseHeaders": {"x-ms-error-code": "Warning.User.NotExisted"}, "ResponseBody": null}], "Variables": {}}`
	writeFiles(t, dir, map[string]string{"v_test.fixture.json": fixture})
	out, _, err := runTests(t, Options{Transport: noNetwork{t}}, dir)
	if err == nil || !strings.Contains(out, `query differs at "api-version": recorded "2023-07-01", got "2024-12-01"`) {
		t.Errorf("err %v\n%s", err, out)
	}
	out, _, err = runTests(t, Options{Transport: noNetwork{t}, IgnoreAPIVersion: true}, dir)
	if err != nil {
		t.Errorf("--ignore-api-version: err %v\n%s", err, out)
	}
}

func TestConnectCannotReplay(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"c_test.lua": `
it("connects", function() wps.connect{user_id = "u"} end)
it("connects through a client", function() fixture.client{}:connect{user_id = "u"} end)
it("connects only when not replaying", function()
  local id = fixture.variable("id", function() return wps.connect{user_id = "u"}.connection_id end)
  assert.is_string(id)
end)`,
		"c_test.fixture.json": `{"Entries": [], "Variables": {"id": "recorded-id"}}`,
	})
	out, sum, _ := runTests(t, Options{Transport: noNetwork{t}}, dir)
	if sum.Failed != 2 || sum.Passed != 1 || strings.Count(out, "client connections are not recorded") != 2 {
		t.Errorf("summary %+v\n%s", sum, out)
	}
}

// TestRecordOneTestKeepsTheOthers re-records one test with --run: the
// entries of the other tests stay in the fixture.
func TestRecordOneTestKeepsTheOthers(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"k_test.lua": `
it("a", function() wps.send_to_all("a") end)
it("b", function() wps.send_to_all(MESSAGE or "b") end)`})
	recordAndReplay(t, dir)
	writeFiles(t, dir, map[string]string{"k_test.lua": "MESSAGE = 'b2'\n" + `
it("a", function() wps.send_to_all("a") end)
it("b", function() wps.send_to_all(MESSAGE or "b") end)`})
	out, _, err := runTests(t, Options{Record: true, Run: regexp.MustCompile("^b$")}, dir)
	if err != nil || !strings.Contains(out, "recorded 1 request(s)") {
		t.Fatalf("err %v\n%s", err, out)
	}
	out, sum, err := runTests(t, Options{Transport: noNetwork{t}, Strict: true}, dir)
	if err != nil || sum.Passed != 2 {
		t.Errorf("replay: err %v\n%s", err, out)
	}
}

func TestFixtureNotWrittenWhenATestFails(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"w_test.lua": `it("fails", function() wps.send_to_all("x"); assert.truthy(false) end)`})
	out, _, _ := runTests(t, Options{}, dir)
	if _, err := os.Stat(filepath.Join(dir, "w_test.fixture.json")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(out, "fixture not written") {
		t.Errorf("stat %v\n%s", err, out)
	}
}

func TestRunScript(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"scripts/s.lua": `
local opts, rest = flags.parse(args, {n = "number"})
if rest[1] == "exit" then os.exit(3) end
if rest[1] == "fail" then error("it failed", 0) end
print("n=" .. tostring(opts.n), ...)`,
		"t/s_test.lua": `
it("runs a script as wps run does", function()
  assert.same({status = 0, output = "n=4\t--n\t4\tx\n"}, run_script("../scripts/s.lua", "--n", 4, "x"))
  assert.same({status = 3, output = ""}, run_script("../scripts/s.lua", "exit"))
  assert.same({status = 1, output = "", error = "it failed"}, run_script("../scripts/s.lua", "fail"))
  local r = run_script("../scripts/s.lua", "--bad")
  assert.equal(2, r.status)
  assert.match("%-%-bad", r.error)
  assert.error(function() run_script("../scripts/missing.lua") end, "no such file")
end)`,
	})
	out, sum, err := runTests(t, Options{Transport: noNetwork{t}}, filepath.Join(dir, "t"))
	if err != nil || sum.Passed != 1 {
		t.Fatalf("err %v\n%s", err, out)
	}
}

// BenchmarkReplay100 replays a file of 100 recorded calls in process (the
// whole-process figure is BenchmarkTestReplay100 in package main).
func BenchmarkReplay100(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "calls_test.lua")
	os.WriteFile(path, []byte(`it("makes 100 calls", function()
  for i = 1, 100 do wps.send_to_group("group" .. (i % 7), {type = "notice", seq = i, text = "deploy starting"}) end
end)`), 0o644)
	if _, err := Run(context.Background(), []string{dir}, Options{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Run(context.Background(), []string{dir}, Options{Strict: true}); err != nil {
			b.Fatal(err)
		}
	}
}
