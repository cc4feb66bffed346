package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// payloadHeader is the size of the header every broadcast starts with: the
// sequence number and the send time (nanoseconds since clock), both 8 bytes
// little-endian.
const payloadHeader = 16

// Dialing limits.
const (
	dialTimeout        = 10 * time.Second
	connectsInParallel = 50
)

// clock is the time base of the send times in payloads; durations from it
// are monotonic.
var clock = time.Now()

// result is what one target achieved.
type result struct {
	target     string
	expected   int64 // clients × measured broadcasts
	delivered  int64 // measured messages that reached a client (first copy only)
	lost       int64
	duplicates int64 // copies received again, or out of order
	elapsed    time.Duration
	p50, p99   time.Duration
	max        time.Duration
}

// perSecond returns the deliveries per second.
func (r result) perSecond() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.delivered) / r.elapsed.Seconds()
}

// loadRun is the shared state of one measurement.
type loadRun struct {
	clients  int
	total    int // warm-up + measured broadcasts
	warmup   int
	reached  []atomic.Int32 // per broadcast: clients that got it
	complete chan int       // broadcasts that reached every client
	dups     atomic.Int64
}

// receiver is one client's record of what it received.
type receiver struct {
	next      int             // the sequence number it expects next
	latencies []time.Duration // of measured broadcasts, in arrival order
}

// measure connects cfg.clients plain WebSocket clients to t, sends the
// broadcasts and returns what the clients observed.
func measure(t target, cfg config) (result, error) {
	r := &loadRun{
		clients:  cfg.clients,
		total:    cfg.warmup + cfg.messages,
		warmup:   cfg.warmup,
		reached:  make([]atomic.Int32, cfg.warmup+cfg.messages),
		complete: make(chan int, cfg.warmup+cfg.messages),
	}
	conns, err := dialAll(t.clientURL, cfg.clients)
	if err != nil {
		return result{}, err
	}
	receivers := make([]*receiver, len(conns))
	var readers sync.WaitGroup
	for i, conn := range conns {
		receivers[i] = &receiver{latencies: make([]time.Duration, 0, cfg.messages)}
		readers.Add(1)
		go func() {
			defer readers.Done()
			r.read(conn, receivers[i])
		}()
	}
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
		readers.Wait()
	}()

	elapsed, err := r.send(t.send, cfg.size, cfg.window, cfg.drain)
	if err != nil {
		return result{}, err
	}

	res := result{target: t.name, expected: int64(cfg.clients) * int64(cfg.messages), elapsed: elapsed}
	for k := cfg.warmup; k < r.total; k++ {
		res.delivered += int64(r.reached[k].Load())
	}
	res.lost = res.expected - res.delivered
	res.duplicates = r.dups.Load()
	var all []time.Duration
	for _, rc := range receivers {
		all = append(all, rc.latencies...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		res.p50 = all[len(all)/2]
		res.p99 = all[len(all)*99/100]
		res.max = all[len(all)-1]
	}
	return res, nil
}

// send sends every broadcast, keeping at most window of them incomplete,
// then waits for the last ones. A broadcast waits at most drain for the one
// window places before it, and the end waits at most drain for the rest, so a
// run with lost messages still ends. It returns the time from the first
// measured send to the completion of the last broadcast (or to the end of the
// drain wait, if some never completed).
func (r *loadRun) send(post func([]byte) error, size, window int, drain time.Duration) (time.Duration, error) {
	done := make([]bool, r.total)
	waitFor := func(k int, limit time.Duration) {
		timer := time.NewTimer(limit)
		defer timer.Stop()
		for !done[k] {
			select {
			case c := <-r.complete:
				done[c] = true
			case <-timer.C:
				return
			}
		}
	}
	payload := make([]byte, size)
	for i := payloadHeader; i < size; i++ {
		payload[i] = byte('a' + i%26)
	}
	var start time.Time
	for k := 0; k < r.total; k++ {
		if k >= window {
			waitFor(k-window, drain)
		}
		if k == r.warmup {
			// The warm-up is fully delivered before the clock starts.
			for j := max(0, k-window); j < k; j++ {
				waitFor(j, drain)
			}
			start = time.Now()
		}
		binary.LittleEndian.PutUint64(payload[0:], uint64(k))
		binary.LittleEndian.PutUint64(payload[8:], uint64(time.Since(clock)))
		if err := post(payload); err != nil {
			return 0, fmt.Errorf("broadcast %d: %w", k, err)
		}
	}
	deadline := time.Now().Add(drain)
	for k := r.warmup; k < r.total; k++ {
		if remaining := time.Until(deadline); remaining > 0 {
			waitFor(k, remaining)
		}
	}
	return time.Since(start), nil
}

// read receives broadcasts on conn until it closes.
func (r *loadRun) read(conn *websocket.Conn, rc *receiver) {
	var header [payloadHeader]byte
	var scratch []byte // for the rest of large messages, read in large pieces
	for {
		_, body, err := conn.NextReader()
		if err != nil {
			return
		}
		if _, err := io.ReadFull(body, header[:]); err != nil {
			continue
		}
		for {
			n, err := body.Read(scratch)
			if err != nil {
				break
			}
			if n == len(scratch) && len(scratch) < 256<<10 {
				scratch = make([]byte, max(4<<10, 4*len(scratch)))
			}
		}
		received := time.Since(clock)
		k := int(binary.LittleEndian.Uint64(header[0:]))
		sent := time.Duration(binary.LittleEndian.Uint64(header[8:]))
		if k < 0 || k >= r.total || k < rc.next {
			r.dups.Add(1)
			continue
		}
		rc.next = k + 1
		if k >= r.warmup {
			rc.latencies = append(rc.latencies, received-sent)
		}
		if r.reached[k].Add(1) == int32(r.clients) {
			r.complete <- k
		}
	}
}

// dialAll opens n plain WebSocket connections to url, spreading them over
// several loopback source addresses so that large counts do not run out of
// ephemeral ports.
func dialAll(url string, n int) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	errs := make([]error, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slots := make(chan struct{}, connectsInParallel)
	var wg sync.WaitGroup
	for i := range n {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			conns[i], errs[i] = dial(ctx, url, i)
			if errs[i] != nil {
				cancel() // the first failure stops the others
			}
		}()
	}
	wg.Wait()
	first := -1 // the first failure that is not a consequence of cancel
	for i, err := range errs {
		if err != nil && (first < 0 || errors.Is(errs[first], context.Canceled)) {
			first = i
		}
	}
	if first < 0 {
		return conns, nil
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return nil, fmt.Errorf("client %d of %d: %w", first+1, n, errs[first])
}

// connectionsPerSourceIP is how many clients share one loopback source
// address (127.0.0.2, 127.0.0.3, ...); well under the ~28,000 ephemeral ports.
const connectionsPerSourceIP = 5000

// dial opens client i's connection to url, from source address
// 127.0.0.(2 + i/connectionsPerSourceIP).
func dial(ctx context.Context, url string, i int) (*websocket.Conn, error) {
	source := net.IPv4(127, 0, 0, byte(2+i/connectionsPerSourceIP))
	netDialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: source}, Timeout: dialTimeout}
	dialer := websocket.Dialer{
		NetDialContext:   netDialer.DialContext,
		HandshakeTimeout: dialTimeout,
		ReadBufferSize:   4096,
		WriteBufferSize:  1024,
	}
	conn, resp, err := dialer.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, err
	}
	return conn, nil
}
