package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"wps/webpubsub"
)

// benchHub is the hub the scripts send to and the receiver listens on.
const benchHub = "bench"

// sentText is the message both scripts send.
const sentText = "hello from send_one"

// service is a `wps serve` process on a loopback port.
type service struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	url  string
	// connectionString holds the random key: never print it.
	connectionString string
}

// startService starts `wps serve` on a free loopback port with a random key
// and waits until it listens. Its log lines of level warn and above go to
// stderr. The caller must call stop.
func startService(ctx context.Context, wpsBin string, stderr io.Writer) (*service, error) {
	keyBytes := make([]byte, 32)
	rand.Read(keyBytes)
	key := hex.EncodeToString(keyBytes)

	cmd := exec.Command(wpsBin, "serve", "--host", "127.0.0.1", "--port", "0", "--key", key, "--log-level", "warn")
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting wps serve: %w", err)
	}
	s := &service{cmd: cmd, done: make(chan struct{})}

	// The first line reads "Web PubSub service listening on <url>"; the
	// rest of the output is drained so the service never blocks on it.
	urls := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if url, ok := strings.CutPrefix(lines.Text(), "Web PubSub service listening on "); ok {
				urls <- url
			}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(s.done)
	}()
	select {
	case s.url = <-urls:
	case <-s.done:
		return nil, errors.New("wps serve exited before listening (see its errors above)")
	case <-time.After(10 * time.Second):
		s.stop()
		return nil, errors.New("wps serve did not say where it listens within 10 s")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	s.connectionString = fmt.Sprintf("Endpoint=%s;AccessKey=%s;Version=1.0;", s.url, key)
	return s, nil
}

// stop ends the service with SIGTERM, and kills it if it has not exited
// within 10 s.
func (s *service) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// receiver is a plain WebSocket client of the benchmark hub counting the
// messages it receives that the scripts send.
type receiver struct {
	conn  *websocket.Conn
	count atomic.Int64
}

// listen connects a receiver to the benchmark hub. The caller must call
// close.
func (s *service) listen(ctx context.Context) (*receiver, error) {
	client, err := webpubsub.NewClientFromConnectionString(s.connectionString, benchHub, nil)
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	token, err := client.GetClientAccessToken(nil)
	if err != nil {
		return nil, fmt.Errorf("receiver token: %w", err)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, _, err := websocket.DefaultDialer.DialContext(dialCtx, token.URL, nil)
	if err != nil {
		// The error of a failed dial may hold the URL and its token.
		return nil, fmt.Errorf("receiver: connecting to %s: %s", token.BaseURL, webpubsub.RedactSecrets(err.Error()))
	}
	r := &receiver{conn: conn}
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if string(data) == sentText {
				r.count.Add(1)
			}
		}
	}()
	return r, nil
}

// wait returns the number of messages received once it reaches want, or
// after 5 s without reaching it.
func (r *receiver) wait(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for int(r.count.Load()) < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return int(r.count.Load())
}

// close closes the receiver's connection.
func (r *receiver) close() { r.conn.Close() }
