package engine

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"wps/webpubsub"
)

// TestRun_ClosesItsConnections checks that a run owns the client
// connections it opens: one the script leaves open is closed when the run
// ends, as the service sees it.
func TestRun_ClosesItsConnections(t *testing.T) {
	out := newOutput()
	e := newEngine(t, out, Options{})
	err := e.RunString(context.Background(), "leaves_open", `
		local c = wps.connect{user_id = "left-open"}
		print(c.connection_id)`)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(out.String())
	if id == "" {
		t.Fatal("the script printed no connection id")
	}
	client := serviceClient(t, e)
	waitUntil(t, "the run's connection to be closed", func() bool {
		exists, err := client.ConnectionExists(context.Background(), id)
		return err == nil && !exists
	})
}

// TestSession_ClosesItsConnections checks that a session keeps its
// connections across evaluations and closes them with the session.
func TestSession_ClosesItsConnections(t *testing.T) {
	e := newEngine(t, newOutput(), Options{})
	s, err := e.NewSession(RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Eval(context.Background(), "stdin", `c = wps.connect{user_id = "kept"}`); err != nil {
		t.Fatal(err)
	}
	values, err := s.Eval(context.Background(), "stdin", `c.connection_id`)
	if err != nil || len(values) != 1 {
		t.Fatalf("values %v, error %v", values, err)
	}
	id := values[0].String()
	client := serviceClient(t, e)
	if exists, err := client.ConnectionExists(context.Background(), id); err != nil || !exists {
		t.Fatalf("between evaluations the connection exists = %v (%v), want true", exists, err)
	}
	if n := s.Module().OpenConnections(); n != 1 {
		t.Errorf("OpenConnections = %d, want 1", n)
	}
	s.Close()
	waitUntil(t, "the session's connection to be closed", func() bool {
		exists, err := client.ConnectionExists(context.Background(), id)
		return err == nil && !exists
	})
}

// TestRun_OwnOutputAndTransport runs two scripts at once in one engine,
// each with its own stdout and HTTP transport, and checks that neither
// sees the other's output or requests.
func TestRun_OwnOutputAndTransport(t *testing.T) {
	e := New(Options{
		Target:    Target{ConnectionString: "Endpoint=http://unused.invalid;AccessKey=" + testKey + ";Version=1.0;", Hub: "chat"},
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	defer e.Close(context.Background())
	script, err := Compile("two_runs", `
		local name = ...
		for i = 1, 20 do
			print(name, i)
			wps.send_to_all(name .. " " .. i)
		end`)
	if err != nil {
		t.Fatal(err)
	}
	type run struct {
		name      string
		stdout    bytes.Buffer
		transport *answeringTransport
	}
	runs := []*run{{name: "alpha", transport: &answeringTransport{}}, {name: "beta", transport: &answeringTransport{}}}
	var wg sync.WaitGroup
	errs := make([]error, len(runs))
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.Run(context.Background(), script, RunOptions{
				Args:       []string{r.name},
				Stdout:     &r.stdout,
				HTTPClient: &http.Client{Transport: r.transport},
			})
		}()
	}
	wg.Wait()
	for i, r := range runs {
		if errs[i] != nil {
			t.Fatalf("run %s: %v", r.name, errs[i])
		}
		lines := strings.Split(strings.TrimSpace(r.stdout.String()), "\n")
		if len(lines) != 20 {
			t.Errorf("run %s printed %d lines, want 20", r.name, len(lines))
		}
		for _, line := range lines {
			if !strings.HasPrefix(line, r.name+"\t") {
				t.Errorf("run %s printed %q", r.name, line)
			}
		}
		bodies := r.transport.bodies()
		if len(bodies) != 20 {
			t.Errorf("run %s's transport saw %d requests, want 20", r.name, len(bodies))
		}
		for _, b := range bodies {
			if !strings.HasPrefix(b, r.name+" ") {
				t.Errorf("run %s's transport saw %q", r.name, b)
			}
		}
	}
}

// testKey is the access key of the tests' fake services.
const testKey = "c2VjcmV0LWtleS1mb3ItZW5naW5lLXRlc3RzLTEyMzQ1Ng=="

// answeringTransport answers every request 202 Accepted without a network,
// and keeps the request bodies.
type answeringTransport struct {
	mu   sync.Mutex
	seen []string
}

func (a *answeringTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	a.mu.Lock()
	a.seen = append(a.seen, string(body))
	a.mu.Unlock()
	return &http.Response{StatusCode: http.StatusAccepted, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

func (a *answeringTransport) bodies() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// serviceClient returns a REST client of e's embedded service, for a test
// to look at what a run left behind.
func serviceClient(t *testing.T, e *Engine) *webpubsub.Client {
	t.Helper()
	cs, err := e.Service(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	client, err := webpubsub.NewClientFromConnectionString(cs, e.Target().Hub, nil)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// waitUntil waits for cond to hold, failing the test if it does not within
// 10 seconds: a bound on a hang, not a measure of speed. The service closes
// a connection when its close frame arrives, after the run has returned.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
