//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run wps as a separate process, built once for the package's
// tests: a script stopped hard leaves its goroutine running, which only the
// end of the process stops, and exit statuses and signals are the
// process's.

// wpsBinary is the wps built for these tests, in a directory TestMain
// removes.
var wpsBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if wpsBinary.dir != "" {
		os.RemoveAll(wpsBinary.dir)
	}
	os.Exit(code)
}

// builtWPS returns the path of wps built from this package.
func builtWPS(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs wps as a process")
	}
	wpsBinary.once.Do(func() {
		wpsBinary.dir, wpsBinary.err = os.MkdirTemp("", "wps-test-")
		if wpsBinary.err != nil {
			return
		}
		wpsBinary.path = filepath.Join(wpsBinary.dir, "wps")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		wpsBinary.out, wpsBinary.err = exec.Command(goTool, "build", "-o", wpsBinary.path, ".").CombinedOutput()
	})
	if wpsBinary.err != nil {
		t.Fatalf("building wps: %v\n%s", wpsBinary.err, wpsBinary.out)
	}
	return wpsBinary.path
}

// process is wps running as a process.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *runOutput
	exited         chan struct{}
}

// newCommand returns the command running the wps at path with args,
// without WEBPUBSUB_* in its environment.
func newCommand(path string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "WEBPUBSUB_") {
			cmd.Env = append(cmd.Env, v)
		}
	}
	return cmd
}

// startWPS starts wps with args (see newCommand).
func startWPS(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := newCommand(builtWPS(t), args...)
	p := &process{cmd: cmd, stdout: newRunOutput(), stderr: newRunOutput(), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// wait returns the exit status of p, failing the test if p has not exited
// within limit: a generous bound on a hang, not a measure of speed.
func (p *process) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("wps did not exit within %s; stderr:\n%s", limit, p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// signalWhenReady sends sig to p once its script printed "ready".
func (p *process) signalWhenReady(t *testing.T, sig os.Signal) {
	t.Helper()
	select {
	case <-p.stdout.ready:
	case <-p.exited:
		t.Fatalf("wps exited before its script was ready; stderr:\n%s", p.stderr)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// cpuTicks returns the CPU time p has used, in clock ticks, from
// /proc/PID/stat (Linux), or false where there is none.
func (p *process) cpuTicks() (int, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	// The fields after the command name, which is in parentheses: state
	// is the first, utime the 12th and stime the 13th.
	_, rest, _ := strings.Cut(string(stat), ") ")
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.Atoi(fields[11])
	stime, err2 := strconv.Atoi(fields[12])
	return utime + stime, err1 == nil && err2 == nil
}

// signalWhenBusy sends sig to p once its script printed "ready" and then
// used a fifth of a second of CPU: the script is then inside the long
// builtin that follows "ready", rather than between the two, where an
// interruption would stop it at once.
func (p *process) signalWhenBusy(t *testing.T, sig os.Signal) {
	t.Helper()
	select {
	case <-p.stdout.ready:
	case <-p.exited:
		t.Fatalf("wps exited before its script was ready; stderr:\n%s", p.stderr)
	}
	start, ok := p.cpuTicks()
	if !ok {
		t.Skip("no /proc/PID/stat to tell when the script is busy")
	}
	for ticks := start; ticks < start+20; ticks, _ = p.cpuTicks() {
		select {
		case <-p.exited:
			t.Fatalf("wps exited before it was signalled; stderr:\n%s", p.stderr)
		case <-time.After(10 * time.Millisecond): // polling the CPU time
		}
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// checkNoGoInternals fails the test if stderr shows a Go panic, a runtime
// error or a goroutine dump.
func checkNoGoInternals(t *testing.T, stderr string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "fatal error", "panic:", "runtime.", ".go:"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr shows Go internals (%q):\n%s", bad, stderr)
		}
	}
}

// TestProcess_ExitStatuses checks each exit status of wps run end to end.
func TestProcess_ExitStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		signal os.Signal // sent once the script printed "ready"
		status int
		stderr string // what stderr must hold
	}{
		{"Success", []string{"testdata/run/args.lua", "a"}, nil, 0, ""},
		{"ScriptError", []string{"testdata/run/fail.lua"}, nil, 1, "testdata/run/fail.lua:2: boom\n"},
		{"Usage", []string{"--timeout", "soon", "testdata/run/args.lua"}, nil, 2, "Run 'wps run --help' for usage."},
		{"Timeout", []string{"--timeout", "1s", "testdata/run/busy.lua"}, nil, 124, "wps run: timed out after 1s (--timeout) at testdata/run/busy.lua:1\n"},
		{"SIGINT", []string{"testdata/run/sleep.lua"}, syscall.SIGINT, 130, "wps run: interrupted\n"},
		{"SIGTERM", []string{"testdata/run/sleep.lua"}, syscall.SIGTERM, 143, "wps run: terminated\n"},
		{"Exit", []string{"testdata/run/exit.lua"}, nil, 4, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startWPS(t, append([]string{"run"}, tc.args...)...)
			if tc.signal != nil {
				p.signalWhenReady(t, tc.signal)
			}
			status := p.wait(t, 30*time.Second)
			stderr := p.stderr.String()
			if status != tc.status || !strings.Contains(stderr, tc.stderr) || (tc.stderr == "" && stderr != "") {
				t.Errorf("status %d, stderr:\n%s\nwant status %d and stderr holding %q", status, stderr, tc.status, tc.stderr)
			}
			checkNoGoInternals(t, stderr)
		})
	}
}

// TestProcess_HostileScripts runs the scripts of issue 7 that kept a core
// busy past every timeout and signal, or took the machine's memory: each
// stops within its timeout and a few seconds, with the status of what
// stopped it and one line saying so.
func TestProcess_HostileScripts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		signal os.Signal // sent once the script is busy after "ready"
		status int
		line   string // what the one line of stderr holds
	}{
		{"BacktrackingFind", []string{"--timeout", "1s", "testdata/run/hard_find.lua"}, nil, 124,
			"wps run: timed out after 1s (--timeout); the script did not stop within 2s (it was inside a long builtin), so it was stopped hard"},
		{"BacktrackingFindSIGINT", []string{"testdata/run/hard_find.lua"}, syscall.SIGINT, 130,
			"wps run: interrupted; the script did not stop within 2s (it was inside a long builtin), so it was stopped hard"},
		{"BacktrackingFindSIGTERM", []string{"testdata/run/hard_find.lua"}, syscall.SIGTERM, 143,
			"wps run: terminated; the script did not stop within 2s (it was inside a long builtin), so it was stopped hard"},
		// gsub checks the context between batches of matches, so it
		// stops where it is rather than hard.
		{"LongGsub", []string{"--timeout", "1s", "testdata/run/gsub_loop.lua"}, nil, 124, "wps run: timed out after 1s (--timeout)"},
		{"LongGsubSIGTERM", []string{"testdata/run/gsub_loop.lua"}, syscall.SIGTERM, 143, "wps run: terminated"},
		{"BusyLoop", []string{"--timeout", "1s", "testdata/run/busy.lua"}, nil, 124, "wps run: timed out after 1s (--timeout) at testdata/run/busy.lua:1"},
		// The last doubling may take longer than the grace period on a
		// busy machine, and end in a hard stop: the same status and line.
		{"MemoryLimit", []string{"--max-memory", "64MiB", "testdata/run/concat_bomb.lua"}, nil, 1,
			"wps run: memory limit of 64 MiB exceeded (--max-memory)"},
		{"ManyCoroutines", []string{"--max-memory", "128MiB", "testdata/run/coroutine_bomb.lua"}, nil, 1,
			"wps run: memory limit of 128 MiB exceeded (--max-memory) at testdata/run/coroutine_bomb.lua:3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startWPS(t, append([]string{"run"}, tc.args...)...)
			if tc.signal != nil {
				p.signalWhenBusy(t, tc.signal)
			}
			// The timeout, the grace period and a generous margin for a
			// loaded machine.
			status := p.wait(t, 60*time.Second)
			stderr := p.stderr.String()
			if status != tc.status {
				t.Errorf("status %d, want %d; stderr:\n%s", status, tc.status, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.line) {
				t.Errorf("stderr:\n%s\nwant one line holding:\n%s", stderr, tc.line)
			}
			checkNoGoInternals(t, stderr)
		})
	}
}

// TestProcess_AllocationBombs checks that scripts asking for more memory
// than a machine has get a Lua error naming the line, and exit 1.
func TestProcess_AllocationBombs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		file  string
		first string // the first line of stderr
	}{
		{"StringRep", "testdata/run/rep_bomb.lua", "testdata/run/rep_bomb.lua:1: string.rep: the result would be 1 TiB, more than the limit of 256 MiB"},
		{"NestedCoroutines", "testdata/run/coroutine_nest.lua", "testdata/run/coroutine_nest.lua:2: C stack overflow: coroutines nested more than 200 deep"},
		{"TailCallsThenError", "testdata/run/tail_error.lua", "testdata/run/tail_error.lua:2: x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startWPS(t, "run", tc.file)
			status := p.wait(t, 60*time.Second)
			stderr := p.stderr.String()
			first, traceback, _ := strings.Cut(stderr, "\n")
			if status != 1 || first != tc.first {
				t.Errorf("status %d, stderr:\n%s\nwant status 1 and first line %q", status, stderr, tc.first)
			}
			if !strings.HasPrefix(traceback, "stack traceback:\n") || strings.Count(traceback, "\n") > 25 {
				t.Errorf("want a traceback of at most 25 lines, got:\n%s", traceback)
			}
			checkNoGoInternals(t, stderr)
		})
	}
}
