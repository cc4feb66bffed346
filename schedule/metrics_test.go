package schedule

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestHandler(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"), JobSpec{Name: "m", Schedule: "* * * * *", Timezone: "UTC"})
	srv := httptest.NewServer(Handler(h.reg, h.s.Healthy))
	defer srv.Close()
	if code, body := get(t, srv.URL+"/healthz"); code != http.StatusServiceUnavailable || body != "scheduler not running\n" {
		t.Errorf("/healthz before Run: %d %q", code, body)
	}
	h.start()
	h.step()
	h.nextStart()
	h.nextFreed()
	h.pause()
	if code, body := get(t, srv.URL+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	code, body := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`# TYPE wps_cron_runs_total counter`,
		`wps_cron_runs_total{job="m",outcome="ok"} 1`,
		`wps_cron_runs_total{job="m",outcome="missed"} 0`,
		`wps_cron_run_duration_seconds_count{job="m"} 1`,
		`wps_cron_running{job="m"} 0`,
		`wps_cron_skipped_total{job="m"} 0`,
		`wps_cron_last_success_timestamp_seconds{job="m"} 1.77759366e+09`,
		`wps_cron_next_run_timestamp_seconds{job="m"} 1.77759372e+09`,
	} {
		if code != http.StatusOK || !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics (%d) lacks %q:\n%s", code, want, body)
		}
	}
	if resp, err := http.Post(srv.URL+"/metrics", "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %v %v", resp.StatusCode, err)
	}
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, srv.URL+"/healthz"); code != http.StatusServiceUnavailable || body != "scheduler stopped\n" {
		t.Errorf("/healthz after Run: %d %q", code, body)
	}
}

func TestHealthyNeedsALoopThatTurns(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"), JobSpec{Name: "m", Schedule: "@daily"}).start()
	h.pause()
	if err := h.s.Healthy(); err != nil {
		t.Fatal(err)
	}
	h.s.beat.Add(-int64(4 * maxWait)) // as if the loop last turned 4 minutes ago
	if err := h.s.Healthy(); err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Errorf("Healthy() = %v", err)
	}
}
