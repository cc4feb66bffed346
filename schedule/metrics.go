package schedule

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The scheduler's metrics are kept here and written in the Prometheus text
// exposition format (version 0.0.4) by this file, not by
// github.com/prometheus/client_golang. That library is the reference, and
// the tests hold this file to it: TestMetricsMatchClientGolang replays the
// same observations into client_golang collectors built from the table
// below and compares the two expositions byte for byte, and promlint
// checks the names. But it cannot be linked into wps at no cost: its
// package initialisation (a default registry with Go and process
// collectors, procfs, expvar, the protobuf runtime) adds 155 page faults,
// about 6 ms, to the start of every wps command, `wps run` and each
// isolated cron run included: more than the whole budget of `wps run` over
// a bare Go program (bench/run). Six labelled series need none of that.

// A family is one metric of the scheduler: its name, help, type and label
// names, as /metrics shows them.
type family struct {
	name    string
	help    string
	kind    string // "counter", "gauge" or "histogram"
	labels  []string
	buckets []float64 // a histogram's upper bounds, ascending
}

// The scheduler's families; label names are in sorted order, as the
// exposition writes them.
var (
	runsFamily = family{name: "wps_cron_runs_total", kind: "counter", labels: []string{"job", "outcome"},
		help: "Attempts of scheduled runs by outcome (ok, failed, timeout, killed), and runs skipped or missed."}
	durationFamily = family{name: "wps_cron_run_duration_seconds", kind: "histogram", labels: []string{"job"},
		help:    "How long attempts of runs took.",
		buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}}
	runningFamily = family{name: "wps_cron_running", kind: "gauge", labels: []string{"job"},
		help: "Attempts running now (0 or 1 per job)."}
	skippedFamily = family{name: "wps_cron_skipped_total", kind: "counter", labels: []string{"job"},
		help: "Runs skipped because the job was still running."}
	lastSuccessFamily = family{name: "wps_cron_last_success_timestamp_seconds", kind: "gauge", labels: []string{"job"},
		help: "When the job's last successful run ended, in Unix seconds."}
	nextRunFamily = family{name: "wps_cron_next_run_timestamp_seconds", kind: "gauge", labels: []string{"job"},
		help: "When the job's next run is due, in Unix seconds."}
)

// A series is one labelled value of a family: a counter or gauge value, or
// a histogram's per-bucket counts, count and sum.
type series struct {
	labels  []string // values, in the family's label order
	value   float64
	buckets []uint64 // histogram only: observations per bucket, not cumulative
	count   uint64
	sum     float64
}

// A vec holds the series of one family by their label values.
type vec struct {
	family
	series map[string]*series
}

// newVec returns an empty vec of f.
func newVec(f family) *vec {
	return &vec{family: f, series: map[string]*series{}}
}

// get returns the series of the label values, creating it at zero.
func (v *vec) get(values ...string) *series {
	key := strings.Join(values, "\xff")
	s, ok := v.series[key]
	if !ok {
		s = &series{labels: values}
		if v.kind == "histogram" {
			s.buckets = make([]uint64, len(v.buckets))
		}
		v.series[key] = s
	}
	return s
}

// deleteJob removes the series whose job label is job.
func (v *vec) deleteJob(job string) {
	for key, s := range v.series {
		if s.labels[0] == job {
			delete(v.series, key)
		}
	}
}

// metrics are the scheduler's metrics, labelled by job. They are safe for
// concurrent use.
type metrics struct {
	mu          sync.Mutex
	runs        *vec
	duration    *vec
	running     *vec
	skipped     *vec
	lastSuccess *vec
	nextRun     *vec
}

// newMetrics returns the scheduler's metrics, with no series.
func newMetrics() *metrics {
	return &metrics{
		runs:        newVec(runsFamily),
		duration:    newVec(durationFamily),
		running:     newVec(runningFamily),
		skipped:     newVec(skippedFamily),
		lastSuccess: newVec(lastSuccessFamily),
		nextRun:     newVec(nextRunFamily),
	}
}

// addJob creates a job's series at zero, so rates and alerts see it from
// the start.
func (m *metrics) addJob(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range Outcomes {
		m.runs.get(name, string(o))
	}
	m.running.get(name)
	m.skipped.get(name)
}

// forget deletes a removed job's series.
func (m *metrics) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.vecs() {
		v.deleteJob(name)
	}
}

// countRuns adds n runs of the job with the outcome.
func (m *metrics) countRuns(name string, o Outcome, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs.get(name, string(o)).value += float64(n)
}

// countSkipped counts a run skipped because the job was still running.
func (m *metrics) countSkipped(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs.get(name, string(OutcomeSkipped)).value++
	m.skipped.get(name).value++
}

// started counts an attempt of the job as running.
func (m *metrics) started(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running.get(name).value++
}

// finished records an attempt that took d and ended at end with outcome o.
func (m *metrics) finished(name string, o Outcome, d time.Duration, end time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running.get(name).value--
	m.runs.get(name, string(o)).value++
	h := m.duration.get(name)
	seconds := d.Seconds()
	// Bucket i counts observations up to the family's bucket i; beyond
	// the last, only count (the +Inf bucket) does.
	if i, _ := slices.BinarySearch(m.duration.buckets, seconds); i < len(h.buckets) {
		h.buckets[i]++
	}
	h.count++
	h.sum += seconds
	if o == OutcomeOK {
		m.lastSuccess.get(name).value = unixSeconds(end)
	}
}

// setNext records when a job runs next; the zero time removes the series.
func (m *metrics) setNext(name string, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.IsZero() {
		m.nextRun.deleteJob(name)
		return
	}
	m.nextRun.get(name).value = unixSeconds(t)
}

// vecs returns every family's vec.
func (m *metrics) vecs() []*vec {
	return []*vec{m.runs, m.duration, m.running, m.skipped, m.lastSuccess, m.nextRun}
}

// unixSeconds returns t in Unix seconds, with its fraction.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// write writes the metrics in the text exposition format: families by
// name, series by label values, and no family that has no series.
func (m *metrics) write(w *bufio.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vecs := m.vecs()
	slices.SortFunc(vecs, func(a, b *vec) int { return strings.Compare(a.name, b.name) })
	for _, v := range vecs {
		if len(v.series) == 0 {
			continue
		}
		writeHeader(w, v.name, v.help, v.kind)
		all := make([]*series, 0, len(v.series))
		for _, s := range v.series {
			all = append(all, s)
		}
		slices.SortFunc(all, func(a, b *series) int { return slices.Compare(a.labels, b.labels) })
		for _, s := range all {
			if v.kind != "histogram" {
				writeSample(w, v.name, v.labels, s.labels, "", 0, s.value)
				continue
			}
			var cumulative uint64
			for i, le := range v.buckets {
				cumulative += s.buckets[i]
				writeSample(w, v.name+"_bucket", v.labels, s.labels, "le", le, float64(cumulative))
			}
			writeSample(w, v.name+"_bucket", v.labels, s.labels, "le", math.Inf(1), float64(s.count))
			writeSample(w, v.name+"_sum", v.labels, s.labels, "", 0, s.sum)
			writeSample(w, v.name+"_count", v.labels, s.labels, "", 0, float64(s.count))
		}
	}
}

// writeHeader writes a family's HELP and TYPE lines.
func writeHeader(w *bufio.Writer, name, help, kind string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, helpEscaper.Replace(help), name, kind)
}

// writeSample writes one sample line, name{labels} value. extra names the
// histogram bucket label, whose value is le; "" means none.
func writeSample(w *bufio.Writer, name string, labels, values []string, extra string, le, value float64) {
	w.WriteString(name)
	if len(labels) > 0 || extra != "" {
		w.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(l)
			w.WriteString(`="`)
			labelEscaper.WriteString(w, values[i])
			w.WriteByte('"')
		}
		if extra != "" {
			if len(labels) > 0 {
				w.WriteByte(',')
			}
			w.WriteString(extra)
			w.WriteString(`="`)
			w.WriteString(formatFloat(le))
			w.WriteByte('"')
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(value))
	w.WriteByte('\n')
}

// The escapes of the text format: help text escapes backslash and newline,
// label values also the double quote.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// formatFloat formats a sample value as the text format writes it.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// metricsContentType is the media type of the text exposition format.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteMetrics writes the scheduler's metrics, then the process's (CPU,
// memory, file descriptors, start time, goroutines, under the names
// client_golang's collectors give them), in the Prometheus text format.
func (s *Scheduler) WriteMetrics(w io.Writer) error {
	bw := bufio.NewWriter(w)
	s.metrics.write(bw)
	writeProcessMetrics(bw)
	return bw.Flush()
}

// Handler serves GET /metrics (WriteMetrics) and GET /healthz: 200 "ok"
// while s is Healthy, else 503 with the reason.
func Handler(s *Scheduler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", metricsContentType)
		s.WriteMetrics(w)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := s.Healthy(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}
