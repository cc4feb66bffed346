package repl

import (
	"context"
	"io"
	"strings"
	"testing"

	"wps/engine"
)

// The benchmarks compare, in-process, what `echo '1+1' | wps repl` and
// `wps run` of a file holding print(1+1) do after the process has
// started, against a configured hub (not contacted for 1+1): a session
// with the REPL's transport, guard and help, reading the pipe, against a
// compile and a run. bench/repl compares the two commands as processes.

// benchTarget is a configured hub that no request reaches.
var benchTarget = engine.Target{ConnectionString: "Endpoint=http://127.0.0.1:9;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;", Hub: "bench"}

func BenchmarkREPLOneLine(b *testing.B) {
	e := engine.New(engine.Options{Target: benchTarget, Stdout: io.Discard})
	defer e.Close(context.Background())
	for b.Loop() {
		status, err := Run(context.Background(), Config{Engine: e, Stdin: strings.NewReader("1+1\n"), Stdout: io.Discard, Stderr: io.Discard, PlainOutput: true})
		if status != 0 || err != nil {
			b.Fatal(status, err)
		}
	}
}

func BenchmarkRunOneLine(b *testing.B) {
	e := engine.New(engine.Options{Target: benchTarget, Stdout: io.Discard})
	defer e.Close(context.Background())
	for b.Loop() {
		script, err := engine.Compile("line.lua", "print(1+1)")
		if err != nil {
			b.Fatal(err)
		}
		ctx, stop := engine.SignalContext(context.Background())
		err = e.Run(ctx, script, engine.RunOptions{})
		stop()
		if err != nil {
			b.Fatal(err)
		}
	}
}
