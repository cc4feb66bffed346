package engine

import (
	"context"
	"io"
	"testing"
)

// BenchmarkEngine_RunString measures the fixed cost of a run: a fresh
// state with the standard library, the helpers and the wps module (whose
// service is not started, as the script does not use it), and a small
// script.
func BenchmarkEngine_RunString(b *testing.B) {
	e := New(Options{Stdout: io.Discard, LookupEnv: func(string) (string, bool) { return "", false }})
	defer e.Close(context.Background())
	ctx := context.Background()
	for b.Loop() {
		if err := e.RunString(ctx, "bench", `local t = json.decode('{"a":[1,2,3]}'); print(#t.a)`); err != nil {
			b.Fatal(err)
		}
	}
}
