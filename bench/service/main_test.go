package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// smallConfig is a load small enough for a unit test.
func smallConfig() config {
	return config{clients: 5, messages: 20, warmup: 3, size: 64, window: 4, rounds: 1, drain: 10 * time.Second}
}

func TestMeasure_Bare(t *testing.T) {
	checkMeasure(t, startBare)
}

func TestMeasure_Service(t *testing.T) {
	checkMeasure(t, startService)
}

// checkMeasure runs a small load against the target made by start and
// checks that every measured message was counted once.
func checkMeasure(t *testing.T, start func(string) (target, error)) {
	t.Helper()
	tg, err := start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tg.close()
	cfg := smallConfig()
	r, err := measure(tg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(cfg.clients * cfg.messages)
	if r.expected != want || r.delivered != want || r.lost != 0 || r.duplicates != 0 {
		t.Errorf("got expected=%d delivered=%d lost=%d dup=%d, want %d delivered, none lost or doubled",
			r.expected, r.delivered, r.lost, r.duplicates, want)
	}
	if r.p50 <= 0 || r.p99 < r.p50 || r.max < r.p99 {
		t.Errorf("latencies out of order: p50=%s p99=%s max=%s", r.p50, r.p99, r.max)
	}
	if r.perSecond() <= 0 {
		t.Errorf("deliveries per second = %f, want > 0", r.perSecond())
	}
}

func TestMeasure_CountsLostMessages(t *testing.T) {
	tg, err := startBare("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tg.close()
	// A target whose every other broadcast goes nowhere.
	send := tg.send
	n := 0
	tg.send = func(payload []byte) error {
		n++
		if n%2 == 0 {
			return nil
		}
		return send(payload)
	}
	cfg := smallConfig()
	cfg.warmup = 0
	cfg.messages = 4
	cfg.window = 8 // never waits for a lost broadcast before the final drain
	// What is not lost arrives well within the drain; the lost ones use it up.
	cfg.drain = 2 * time.Second
	r, err := measure(tg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if wantLost := int64(cfg.clients * cfg.messages / 2); r.lost != wantLost {
		t.Errorf("lost = %d, want %d", r.lost, wantLost)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.clients != 1000 || cfg.size != 2048 || cfg.idle != 0 {
		t.Errorf("defaults = %+v, want 1000 clients of 2048 bytes and no idle run", cfg)
	}
	for _, args := range [][]string{
		{"-clients", "0"},
		{"-size", "8"},
		{"-window", "0"},
		{"-rounds", "0"},
		{"-idle", "-1"},
		{"-drain", "0s"},
		{"-child", "other"},
		{"-slow", "-1"},
		{"-slow-size", "2000000"},
		{"-slow-clients", "0"},
	} {
		var stderr bytes.Buffer
		if _, err := parseFlags(args, &stderr); err == nil {
			t.Errorf("parseFlags(%q) accepted bad input", args)
		}
	}
}

func TestResidentBytes(t *testing.T) {
	rss, err := residentBytes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 {
		t.Errorf("RSS of this test = %d bytes, want at least 1 MiB", rss)
	}
	if _, err := residentBytes(-1); err == nil || !strings.Contains(err.Error(), "resident memory") {
		t.Errorf("residentBytes(-1) error = %v, want a resident memory error", err)
	}
}
