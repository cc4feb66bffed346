package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wps/engine"
	"wps/luatest"
	"wps/webpubsub/service"
)

// The tests of `wps test` as a command: its flags, the shipped suites in
// tests/lua replaying with no network, and a changed runbook failing with
// a report of the difference. The runner itself is tested in luatest.

// unreachable is a connection string no request can reach: replaying
// runs must not use it.
const unreachable = "Endpoint=http://127.0.0.1:1;AccessKey=not-used-when-replaying;Version=1.0;"

func TestTest_Help(t *testing.T) {
	status, stdout, _ := runWPS(t, "test", "--help")
	if status != 0 {
		t.Errorf("status %d", status)
	}
	for _, want := range []string{"Usage: wps test [flags] [PATH...]", "-run regexp", "-list", "-format format", "-junit file",
		"-record", "-live", "-strict", "-ignore-api-version", "-allow-empty", "-redact regexp", "-timeout duration", "(default 10s)",
		"run_script(path, args...)", "fixture.variable", "Examples:\n  wps test"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, stdout)
		}
	}
	if _, stdout, _ := runWPS(t, "--help"); !strings.Contains(stdout, "  test     run Lua tests") {
		t.Errorf("wps --help does not list test:\n%s", stdout)
	}
}

func TestTest_UsageMistakes(t *testing.T) {
	for _, args := range [][]string{
		{"--record", "--live"},
		{"--format", "xml"},
		{"--run", "("},
		{"--redact", ".*"},
		{"--timeout", "-1s"},
		{"--timeout", "10"},
		{"--nope"},
	} {
		status, _, stderr := runWPS(t, append([]string{"test"}, args...)...)
		if status != engine.StatusUsage || !strings.Contains(stderr, "Run 'wps test --help' for usage.") {
			t.Errorf("%v: status %d, stderr %q", args, status, stderr)
		}
	}
}

func TestTest_NoTestRan(t *testing.T) {
	dir := t.TempDir()
	status, stdout, stderr := runWPS(t, "test", dir)
	if status != 1 || !strings.Contains(stderr, "no test ran") || stdout != "0 passed, 0 failed\n" {
		t.Errorf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	if status, _, _ := runWPS(t, "test", "--allow-empty", dir); status != 0 {
		t.Errorf("--allow-empty: status %d", status)
	}
	if status, _, stderr := runWPS(t, "test", filepath.Join(dir, "missing")); status != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing path: status %d, stderr %q", status, stderr)
	}
}

// snapshot returns the contents of the files under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			files[p] = string(data)
		}
		return err
	})
	return files
}

// TestTest_ShippedSuitesReplay runs the Lua tests in tests/lua as CI
// does: every runbook's tests and every official recording replay from
// their fixtures, reaching no service (the one configured is unreachable)
// and writing nothing.
func TestTest_ShippedSuitesReplay(t *testing.T) {
	before := snapshot(t, "tests/lua")
	status, stdout, stderr := runWPS(t, "test", "--connection-string", unreachable, "--strict", "tests/lua/runbooks")
	if status != 0 || !strings.HasSuffix(stdout, " passed, 0 failed\n") {
		t.Errorf("runbooks: status %d\n%s%s", status, stdout, stderr)
	}
	status, stdout, stderr = runWPS(t, "test", "--connection-string", unreachable, "tests/lua/recordings")
	if status != 0 || !strings.HasSuffix(stdout, " passed, 0 failed, 2 skipped\n") {
		t.Errorf("recordings: status %d\n%s%s", status, stdout, stderr)
	}
	// The only entries left unused are the :generateToken calls no Lua
	// function makes.
	if n := strings.Count(stdout, "not made"); n != 2 || strings.Count(stdout, ":generateToken)") != 2 {
		t.Errorf("unused entries:\n%s", stdout)
	}
	after := snapshot(t, "tests/lua")
	if len(after) != len(before) {
		t.Errorf("files added or removed: %d before, %d after", len(before), len(after))
	}
	for p, data := range before {
		if after[p] != data {
			t.Errorf("%s changed", p)
		}
	}
	for _, runbook := range []string{"announce", "audit_group", "broadcast", "kick_user", "permissions"} {
		for _, f := range []string{runbook + "_test.lua", runbook + "_test.fixture.json"} {
			if _, ok := before[filepath.Join("tests/lua/runbooks", f)]; !ok {
				t.Errorf("scripts/%s.lua has no tests/lua/runbooks/%s", runbook, f)
			}
		}
	}
}

// TestTest_RecordingsAreCopiedUnchanged checks that the fixtures of the
// recording tests are the official recordings, byte for byte.
func TestTest_RecordingsAreCopiedUnchanged(t *testing.T) {
	for fixture, source := range map[string]string{
		"go_send_to_all_test.fixture.json":               "go/TestClient_SendToAll.json",
		"go_manage_permissions_test.fixture.json":        "go/TestClient_ManagePermissions.json",
		"go_close_connections_test.fixture.json":         "go/TestClient_CloseConnections.json",
		"go_check_existence_test.fixture.json":           "go/TestClient_CheckExistence.json",
		"js_join_groups_with_filter_test.fixture.json":   "js/recording_can_join_multiple_groups_with_filter.json",
		"net_list_connections_paging_test.fixture.json":  "net/ServiceClientCanListConnectionsInGroupWithContinuationToken.json",
		"python_generate_client_token_test.fixture.json": "python-proxy/test_generated_api_coverage.pyTestGeneratedApiCoveragetest_generate_client_token.json",
		"python_list_connections_test.fixture.json":      "python-proxy/test_generated_api_coverage.pyTestGeneratedApiCoveragetest_list_connections.json",
		"python_live_api_coverage_test.fixture.json":     "python-proxy/test_live_api_coverage_all_apis_and_parameters.json",
		"python_vcr_send_with_filter_test.fixture.yaml":  "python-vcr/test_smoke.test_send_with_filter.yaml",
		"python_vcr_add_user_to_group_test.fixture.yaml": "python-vcr/test_smoke.test_add_user_to_group.yaml",
	} {
		got, err := os.ReadFile(filepath.Join("tests/lua/recordings", fixture))
		if err != nil {
			t.Error(err)
			continue
		}
		want, err := os.ReadFile(filepath.Join("webpubsub/testdata/recordings", source))
		if err != nil {
			t.Error(err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not a copy of %s", fixture, source)
		}
		test := strings.TrimSuffix(strings.TrimSuffix(fixture, ".fixture.json"), ".fixture.yaml") + ".lua"
		if _, err := os.Stat(filepath.Join("tests/lua/recordings", test)); err != nil {
			t.Errorf("%s has no test: %v", fixture, err)
		}
	}
}

// copyTree copies the files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	for p, data := range snapshot(t, src) {
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		os.MkdirAll(filepath.Dir(target), 0o755)
		if err := os.WriteFile(target, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTest_ChangedRunbookFails changes two runbooks on a copy of the tree
// (announce forgets --ttl, kick_user forgets the reason) and checks that
// their tests fail with reports that name the difference.
func TestTest_ChangedRunbookFails(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "scripts", filepath.Join(dir, "scripts"))
	copyTree(t, "tests/lua/runbooks", filepath.Join(dir, "tests/lua/runbooks"))
	edit := func(name, old, new string) {
		path := filepath.Join(dir, "scripts", name)
		data, _ := os.ReadFile(path)
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%s has no %q", name, old)
		}
		os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644)
	}
	edit("announce.lua", "local send_opts = {filter = opts.filter, ttl = opts.ttl}", "local send_opts = {filter = opts.filter}")
	edit("kick_user.lua", "wps.close_user_connections(user, {reason = reason})", "wps.close_user_connections(user)")
	status, stdout, _ := runWPS(t, "test", filepath.Join(dir, "tests"))
	if status != 1 {
		t.Errorf("status %d", status)
	}
	for _, want := range []string{
		"FAIL announce.lua sends to one group with a TTL and a filter (",
		`closest is entry 1 (POST /api/hubs/hub/groups/ops/:send): query differs at "messageTtlSeconds": recorded "60", got nothing`,
		"(the test stopped at " + filepath.Join(dir, "scripts/announce.lua") + ":",
		"FAIL kick_user.lua closes a connected user's connections with the reason and removes the user from every group (",
		`(POST /api/hubs/hub/users/mallory/:closeConnections): query differs at "reason": recorded "abuse report 1234", got nothing`,
		"\n", // the closing line follows
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.HasSuffix(stdout, " passed, 4 failed\n") {
		t.Errorf("closing line:\n%s", stdout)
	}
}

// TestTest_RecordAgainstAService records a file against a running
// service given by --connection-string, then replays it with no service.
func TestTest_RecordAgainstAService(t *testing.T) {
	srv, err := service.Listen("127.0.0.1:0", service.Options{AccessKey: "RecordKey-0123456789-abcdefghij"})
	if err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() { srv.Close(context.Background()) }) // Close must be called once
	defer stop()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "r_test.lua"), []byte(`it("sends", function() wps.send_to_group("ops", "hello") end)`), 0o644)
	status, stdout, stderr := runWPS(t, "test", "--connection-string", srv.ConnectionString, "--hub", "chat", "--format", "tap", dir)
	if status != 0 || !strings.Contains(stdout, "# "+filepath.Join(dir, "r_test.lua")+": recorded 1 request(s)") {
		t.Fatalf("status %d\n%s%s", status, stdout, stderr)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "r_test.fixture.json"))
	if !strings.Contains(string(data), "/api/hubs/chat/groups/ops/:send") || strings.Contains(string(data), "RecordKey") {
		t.Errorf("fixture:\n%s", data)
	}
	stop()
	status, stdout, _ = runWPS(t, "test", "--connection-string", unreachable, dir)
	if status != 0 {
		t.Errorf("replay on the recorded hub: status %d\n%s", status, stdout)
	}
}

// benchFile writes a test file of n REST calls and records its fixture.
func benchFile(b *testing.B, dir string, n int, cs string) string {
	b.Helper()
	path := filepath.Join(dir, "calls_test.lua")
	src := fmt.Sprintf(`it("makes %d calls", function()
  for i = 1, %d do wps.send_to_group("group" .. (i %% 7), {type = "notice", seq = i, text = "deploy starting"}) end
end)`, n, n)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	opts := luatest.Options{Target: engine.Target{ConnectionString: cs}, Record: true, Stdout: io.Discard}
	if _, err := luatest.Run(context.Background(), []string{dir}, opts); err != nil {
		b.Fatal(err)
	}
	return path
}

// runProcess runs bin with args and returns its wall and CPU time.
func runProcess(b *testing.B, bin string, args ...string) (wall, cpu time.Duration) {
	cmd := exec.Command(bin, args...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	return time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkTestReplay100 times `wps test` replaying a file of 100
// recorded calls, as a whole process (target: under 100 ms); it reports
// the median wall and CPU time of a process.
func BenchmarkTestReplay100(b *testing.B) {
	bin := builtWPS(b)
	srv, err := service.Listen("127.0.0.1:0", service.Options{})
	if err != nil {
		b.Fatal(err)
	}
	file := benchFile(b, b.TempDir(), 100, srv.ConnectionString)
	srv.Close(context.Background())
	var walls, cpus []time.Duration
	for b.Loop() {
		wall, cpu := runProcess(b, bin, "test", "--strict", file)
		walls, cpus = append(walls, wall), append(cpus, cpu)
	}
	b.ReportMetric(ms(median(walls)), "median-ms")
	b.ReportMetric(ms(median(cpus)), "median-cpu-ms")
}

// pairedOverhead runs live and record b.N times each, in pairs whose order
// alternates (so that the load of the machine weighs on both alike), and
// reports the medians of wall and CPU time and the medians of the pairs'
// ratios. run returns the wall and CPU time of one run.
func pairedOverhead(b *testing.B, run func(record bool) (wall, cpu time.Duration)) {
	var live, record, liveCPU, recordCPU []time.Duration
	var ratios, cpuRatios []float64
	for i := 0; b.Loop(); i++ {
		var l, r, lc, rc time.Duration
		if i%2 == 0 {
			l, lc = run(false)
			r, rc = run(true)
		} else {
			r, rc = run(true)
			l, lc = run(false)
		}
		live, record, liveCPU, recordCPU = append(live, l), append(record, r), append(liveCPU, lc), append(recordCPU, rc)
		ratios, cpuRatios = append(ratios, float64(r)/float64(l)), append(cpuRatios, float64(rc)/float64(lc))
	}
	slices.Sort(ratios)
	slices.Sort(cpuRatios)
	b.ReportMetric(ms(median(live)), "live-ms")
	b.ReportMetric(ms(median(record)), "record-ms")
	b.ReportMetric(ratios[len(ratios)/2], "record/live")
	b.ReportMetric(ms(median(liveCPU)), "live-cpu-ms")
	b.ReportMetric(ms(median(recordCPU)), "record-cpu-ms")
	b.ReportMetric(cpuRatios[len(cpuRatios)/2], "record/live-cpu")
}

// processCPU returns the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTestRecordOverhead runs the same 100 calls live and recording
// (the fixture written included) against an embedded service in the same
// process: the worst case for recording, whose fixed cost (redacting,
// scanning and writing the file) weighs most against calls that cost
// almost nothing. Its CPU time includes the service's.
func BenchmarkTestRecordOverhead(b *testing.B) {
	srv, err := service.Listen("127.0.0.1:0", service.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(context.Background())
	dir := b.TempDir()
	benchFile(b, dir, 100, srv.ConnectionString)
	pairedOverhead(b, func(record bool) (time.Duration, time.Duration) {
		opts := luatest.Options{Target: engine.Target{ConnectionString: srv.ConnectionString}, Live: !record, Record: record, Stdout: io.Discard}
		start, cpu := time.Now(), processCPU()
		if _, err := luatest.Run(context.Background(), []string{dir}, opts); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), processCPU() - cpu
	})
}

// BenchmarkTestRecordOverheadProcess runs `wps test --live` and `wps test
// --record` of the same 100 calls as whole processes against a service in
// another process (this one), as an operator records against a hub
// (target: recording adds no more than 10%): on loopback, where a call
// costs almost nothing, and through a proxy that adds 1 ms to each call,
// as a hub in the same region would.
func BenchmarkTestRecordOverheadProcess(b *testing.B) {
	bin := builtWPS(b)
	srv, err := service.Listen("127.0.0.1:0", service.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(context.Background())
	target, _ := url.Parse(srv.URL)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	defer proxy.Close()
	for _, c := range []struct{ name, endpoint string }{{"loopback", srv.URL}, {"1ms", proxy.URL}} {
		b.Run(c.name, func(b *testing.B) {
			cs := strings.Replace(srv.ConnectionString, srv.URL, c.endpoint, 1)
			file := benchFile(b, b.TempDir(), 100, cs)
			pairedOverhead(b, func(record bool) (time.Duration, time.Duration) {
				mode := "--live"
				if record {
					mode = "--record"
				}
				return runProcess(b, bin, "test", mode, "--connection-string", cs, file)
			})
		})
	}
}
