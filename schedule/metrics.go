package schedule

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the scheduler's Prometheus collectors, labelled by job.
type metrics struct {
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	running     *prometheus.GaugeVec
	skipped     *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	nextRun     *prometheus.GaugeVec
}

// newMetrics creates the collectors and registers them with reg (a
// private registry when reg is nil).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wps_cron_runs_total",
			Help: "Attempts of scheduled runs by outcome (ok, failed, timeout, killed), and runs skipped or missed.",
		}, []string{"job", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wps_cron_run_duration_seconds",
			Help:    "How long attempts of runs took.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"job"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wps_cron_running",
			Help: "Attempts running now (0 or 1 per job).",
		}, []string{"job"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wps_cron_skipped_total",
			Help: "Runs skipped because the job was still running.",
		}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wps_cron_last_success_timestamp_seconds",
			Help: "When the job's last successful run ended, in Unix seconds.",
		}, []string{"job"}),
		nextRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wps_cron_next_run_timestamp_seconds",
			Help: "When the job's next run is due, in Unix seconds.",
		}, []string{"job"}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.running, m.skipped, m.lastSuccess, m.nextRun} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering cron metrics: %w", err)
		}
	}
	return m, nil
}

// addJob creates a job's series at zero, so rates and alerts see it from
// the start.
func (m *metrics) addJob(name string) {
	for _, o := range Outcomes {
		m.runs.WithLabelValues(name, string(o))
	}
	m.running.WithLabelValues(name)
	m.skipped.WithLabelValues(name)
}

// forget deletes a removed job's series.
func (m *metrics) forget(name string) {
	l := prometheus.Labels{"job": name}
	m.runs.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.running.DeletePartialMatch(l)
	m.skipped.DeletePartialMatch(l)
	m.lastSuccess.DeletePartialMatch(l)
	m.nextRun.DeletePartialMatch(l)
}

// setNext records when a job runs next.
func (m *metrics) setNext(name string, t time.Time) {
	if t.IsZero() {
		m.nextRun.DeleteLabelValues(name)
		return
	}
	m.nextRun.WithLabelValues(name).Set(float64(t.UnixNano()) / 1e9)
}

// Handler serves GET /metrics from g in the Prometheus text format and
// GET /healthz: 200 "ok" while health returns nil (or is nil), else 503
// with the error.
func Handler(g prometheus.Gatherer, health func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if health != nil {
			if err := health(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, err)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}
