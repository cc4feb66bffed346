package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"wps/webpubsub/service"
)

// Targets and timing of the slow-client measurement.
const (
	slowPeakTargetMiB    = 300
	slowSettleTargetMiB  = 50
	slowSettleLongest    = 150 * time.Second // the longest wait for the memory to come back down
	slowSettlePoll       = 250 * time.Millisecond
	slowWindow           = 8 // broadcasts in flight: well under the 16 MiB a client may fall behind
	slowDrain            = 60 * time.Second
	slowStartSettleDelay = time.Second
)

// slowResult is what the slow-client measurement found.
type slowResult struct {
	start, peak, afterFlood, settled int64 // RSS in bytes
	settleTime                       time.Duration
	delivered, expected              int64
	elapsed                          time.Duration
	slowClosed                       string // how the slow client's connection ended
}

// runSlow measures the service's memory while one client never reads and
// messages broadcasts of size bytes go to it and to healthy clients that
// read everything: the peak RSS (VmHWM) must stay under 300 MiB, the RSS
// must come back within 50 MiB of where it started, and the healthy
// clients must lose nothing. The service runs in a child process.
func runSlow(messages, size, healthy int, out io.Writer) error {
	fmt.Fprintf(out, "slow client: 1 client that never reads, %d that read, %d broadcasts of %d bytes, window %d, service in its own process\n",
		healthy, messages, size, slowWindow)
	r, err := measureSlow(messages, size, healthy)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "RSS: start %.1f MiB, peak %.1f MiB, at the end of the flood %.1f MiB, settled %.1f MiB after %s\n",
		mib(r.start), mib(r.peak), mib(r.afterFlood), mib(r.settled), r.settleTime.Round(time.Second))
	fmt.Fprintf(out, "flood: %d of %d deliveries to the healthy clients in %s (%.0f MB/s); the slow client: %s\n",
		r.delivered, r.expected, r.elapsed.Round(time.Millisecond), float64(r.delivered)*float64(size)/r.elapsed.Seconds()/1e6, r.slowClosed)
	fmt.Fprintf(out, "peak RSS %.1f MiB (target < %d MiB: %s); settled %+.1f MiB from the start (target within %d MiB: %s); healthy clients lost %d (target 0: %s)\n",
		mib(r.peak), slowPeakTargetMiB, verdict(mib(r.peak) < slowPeakTargetMiB),
		mib(r.settled-r.start), slowSettleTargetMiB, verdict(mib(r.settled-r.start) <= slowSettleTargetMiB),
		r.expected-r.delivered, verdict(r.delivered == r.expected))
	return nil
}

// measureSlow runs the slow-client measurement against a service child.
func measureSlow(messages, size, healthy int) (slowResult, error) {
	var res slowResult
	c, err := startChild("service")
	if err != nil {
		return res, err
	}
	defer c.stop()
	clientURL, pid := c.url, c.pid

	// The REST endpoint and a token for the slow client's user, from the
	// child's client URL (the child uses the development key).
	u, err := url.Parse(clientURL)
	if err != nil {
		return res, err
	}
	base := "http://" + u.Host
	sendURL := base + "/api/hubs/" + benchHub + "/:send?api-version=2024-12-01"
	restToken, err := signToken(service.DevelopmentKey, sendURL, "")
	if err != nil {
		return res, err
	}
	post := newPoster(sendURL, http.Header{"Authorization": {"Bearer " + restToken}, "Content-Type": {"application/octet-stream"}})

	run := &loadRun{
		clients:  healthy,
		total:    messages,
		reached:  make([]atomic.Int32, messages),
		complete: make(chan int, messages),
	}
	conns, err := dialAll(clientURL, healthy)
	if err != nil {
		return res, err
	}
	var readers sync.WaitGroup
	for _, conn := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			run.read(conn, &receiver{})
		}()
	}
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
		readers.Wait()
	}()
	slowToken, err := signToken(service.DevelopmentKey, base+"/client/hubs/"+benchHub, "slow")
	if err != nil {
		return res, err
	}
	slow, err := dial(context.Background(), "ws://"+u.Host+"/client/hubs/"+benchHub+"?access_token="+slowToken, healthy)
	if err != nil {
		return res, err
	}
	defer slow.Close()

	time.Sleep(slowStartSettleDelay)
	if res.start, err = residentBytes(pid); err != nil {
		return res, err
	}
	res.elapsed, err = run.send(post, size, slowWindow, slowDrain)
	if err != nil {
		return res, err
	}
	res.expected = int64(messages) * int64(healthy)
	for k := range run.reached {
		res.delivered += int64(run.reached[k].Load())
	}
	if res.peak, err = peakResidentBytes(pid); err != nil {
		return res, err
	}
	if res.afterFlood, err = residentBytes(pid); err != nil {
		return res, err
	}

	// The memory comes back as the Go runtime returns it to the system;
	// wait, bounded, until it is within the target of the start.
	settleStart := time.Now()
	for {
		if res.settled, err = residentBytes(pid); err != nil {
			return res, err
		}
		res.settleTime = time.Since(settleStart)
		if mib(res.settled-res.start) <= slowSettleTargetMiB || res.settleTime > slowSettleLongest {
			break
		}
		time.Sleep(slowSettlePoll)
	}
	res.slowClosed = slowClientEnd(base, slow)
	return res, nil
}

// slowClientEnd says how the slow client's connection ended: whether the
// service still lists its user, and what the client reads once it reads.
func slowClientEnd(base string, slow *websocket.Conn) string {
	headURL := base + "/api/hubs/" + benchHub + "/users/slow?api-version=2024-12-01"
	state := "still connected"
	if token, err := signToken(service.DevelopmentKey, headURL, ""); err == nil {
		req, _ := http.NewRequest(http.MethodHead, headURL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				state = "closed by the service"
			}
		}
	}
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	frames := 0
	for {
		_, r, err := slow.NextReader()
		if err == nil {
			io.Copy(io.Discard, r)
			frames++
			continue
		}
		var closeErr *websocket.CloseError
		if errors.As(err, &closeErr) {
			return fmt.Sprintf("%s; it then read %d messages and close %d %q", state, frames, closeErr.Code, closeErr.Text)
		}
		return fmt.Sprintf("%s; it then read %d messages and %v", state, frames, err)
	}
}

// peakResidentBytes returns VmHWM, the peak resident memory, of process pid.
func peakResidentBytes(pid int) (int64, error) {
	return procStatusBytes(pid, "VmHWM:")
}

// procStatusBytes returns a "<field> N kB" line of /proc/pid/status in bytes.
func procStatusBytes(pid int, field string) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading resident memory: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("parsing %s %q: %w", field, rest, err)
			}
			return kib * 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}
