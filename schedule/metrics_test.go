package schedule

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
	srv := httptest.NewServer(Handler(h.s))
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

// exposition gathers a Scheduler's metrics by parsing what WriteMetrics
// writes with the Prometheus text parser, so that every metric a test
// reads has gone through the format.
type exposition struct{ s *Scheduler }

// Gather implements prometheus.Gatherer.
func (e exposition) Gather() ([]*dto.MetricFamily, error) {
	var text bytes.Buffer
	if err := e.s.WriteMetrics(&text); err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(&text)
	if err != nil {
		return nil, fmt.Errorf("parsing /metrics: %w\n%s", err, text.String())
	}
	var families []*dto.MetricFamily
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		families = append(families, byName[name])
	}
	return families, nil
}

// mirror is the scheduler's metrics built with client_golang from the
// same family table, to hold the hand-written exposition to the library's.
type mirror struct {
	reg                           *prometheus.Registry
	runs, skipped                 *prometheus.CounterVec
	running, lastSuccess, nextRun *prometheus.GaugeVec
	duration                      *prometheus.HistogramVec
}

func newMirror(t *testing.T) *mirror {
	m := &mirror{reg: prometheus.NewRegistry()}
	counter := func(f family) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: f.name, Help: f.help}, f.labels)
	}
	gauge := func(f family) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: f.name, Help: f.help}, f.labels)
	}
	m.runs, m.skipped = counter(runsFamily), counter(skippedFamily)
	m.running, m.lastSuccess, m.nextRun = gauge(runningFamily), gauge(lastSuccessFamily), gauge(nextRunFamily)
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: durationFamily.name, Help: durationFamily.help, Buckets: durationFamily.buckets}, durationFamily.labels)
	m.reg.MustRegister(m.runs, m.skipped, m.running, m.lastSuccess, m.nextRun, m.duration)
	return m
}

// text returns the mirror's exposition in the text format.
func (m *mirror) text(t *testing.T) string {
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&out, f); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

// TestMetricsMatchClientGolang applies the same observations to the
// scheduler's metrics and to client_golang collectors of the same
// families, and wants the same exposition, byte for byte.
func TestMetricsMatchClientGolang(t *testing.T) {
	ours, theirs := newMetrics(), newMirror(t)
	addJob := func(name string) {
		ours.addJob(name)
		for _, o := range Outcomes {
			theirs.runs.WithLabelValues(name, string(o))
		}
		theirs.running.WithLabelValues(name)
		theirs.skipped.WithLabelValues(name)
	}
	run := func(name string, o Outcome, d time.Duration, end time.Time) {
		ours.started(name)
		theirs.running.WithLabelValues(name).Inc()
		ours.finished(name, o, d, end)
		theirs.running.WithLabelValues(name).Dec()
		theirs.runs.WithLabelValues(name, string(o)).Inc()
		theirs.duration.WithLabelValues(name).Observe(d.Seconds())
		if o == OutcomeOK {
			theirs.lastSuccess.WithLabelValues(name).Set(unixSeconds(end))
		}
	}
	next := func(name string, at time.Time) {
		ours.setNext(name, at)
		theirs.nextRun.WithLabelValues(name).Set(unixSeconds(at))
	}
	end := utc("2026-05-01T09:00:01.25Z")
	for _, name := range []string{"standup", `a "quoted"\job` + "\nwith a newline", "b", "gone"} {
		addJob(name)
		next(name, end.Add(time.Hour))
	}
	for _, d := range []time.Duration{0, 50 * time.Millisecond, 51 * time.Millisecond, time.Second, 1799 * time.Second, time.Hour} {
		run("standup", OutcomeOK, d, end.Add(d))
	}
	run("b", OutcomeTimeout, 5*time.Minute, end)
	run("b", OutcomeFailed, 1500*time.Millisecond, end)
	ours.countRuns("b", OutcomeMissed, 300)
	theirs.runs.WithLabelValues("b", string(OutcomeMissed)).Add(300)
	ours.countSkipped("b")
	theirs.runs.WithLabelValues("b", string(OutcomeSkipped)).Inc()
	theirs.skipped.WithLabelValues("b").Inc()
	run("gone", OutcomeOK, time.Second, end)
	ours.forget("gone")
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{theirs.runs, theirs.skipped, theirs.running, theirs.lastSuccess, theirs.nextRun, theirs.duration} {
		v.DeletePartialMatch(prometheus.Labels{"job": "gone"})
	}
	ours.setNext("standup", time.Time{})
	theirs.nextRun.DeleteLabelValues("standup")

	var got bytes.Buffer
	w := bufio.NewWriter(&got)
	ours.write(w)
	w.Flush()
	if want := theirs.text(t); got.String() != want {
		t.Errorf("exposition differs from client_golang's:\n--- ours\n%s\n--- client_golang\n%s", got.String(), want)
	}
}

// TestMetricsLint checks the whole /metrics page, the process metrics
// included, with client_golang's promlint.
func TestMetricsLint(t *testing.T) {
	h := newHarness(t, utc("2026-05-01T00:00:30Z"), JobSpec{Name: "m", Schedule: "* * * * *", Timezone: "UTC"})
	h.start()
	h.step()
	h.nextStart()
	h.nextFreed()
	h.pause()
	var text bytes.Buffer
	if err := h.s.WriteMetrics(&text); err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.New(bytes.NewReader(text.Bytes())).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	want := []string{"go_goroutines", "wps_cron_runs_total", "wps_cron_run_duration_seconds"}
	if runtime.GOOS == "linux" {
		want = append(want, "process_cpu_seconds_total", "process_max_fds", "process_open_fds",
			"process_resident_memory_bytes", "process_start_time_seconds", "process_virtual_memory_bytes")
	}
	for _, name := range want {
		if !names[name] {
			t.Errorf("/metrics has no %s:\n%s", name, text.String())
		}
	}
	h.cancel()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
}
