package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Memory targets and timing of the idle measurement.
const (
	idleTargetMiB = 150
	settleTime    = 3 * time.Second // after the last connect, before reading RSS
	childStartup  = 10 * time.Second
)

// raiseFileLimit raises RLIMIT_NOFILE so the process can hold want open
// files; child processes inherit the limit.
func raiseFileLimit(want int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("reading the open-file limit: %w", err)
	}
	if lim.Cur >= uint64(want) {
		return nil
	}
	if lim.Max < uint64(want) {
		raised := syscall.Rlimit{Cur: uint64(want), Max: uint64(want)}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			return nil
		}
		return fmt.Errorf("need %d open files but the hard limit is %d: raise it (ulimit -Hn) or use fewer connections", want, lim.Max)
	}
	lim.Cur = uint64(want)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raising the open-file limit to %d: %w", want, err)
	}
	return nil
}

// runIdle measures the resident memory of the service and of the bare
// broadcaster, each in a child process, holding n idle connections.
func runIdle(n int, out io.Writer) error {
	fmt.Fprintf(out, "idle memory: %d connections, each server in its own process\n", n)
	fmt.Fprintf(out, "%-8s %12s %12s %14s\n", "target", "RSS before", "RSS idle", "per connection")
	var serviceRSS int64
	for _, name := range []string{"bare", "service"} {
		before, after, err := measureIdle(name, n)
		if err != nil {
			return fmt.Errorf("idle %s: %w", name, err)
		}
		fmt.Fprintf(out, "%-8s %8.1f MiB %8.1f MiB %10.1f KiB\n", name, mib(before), mib(after), float64(after-before)/1024/float64(n))
		if name == "service" {
			serviceRSS = after
		}
	}
	fmt.Fprintf(out, "service RSS for %d idle connections: %.1f MiB (target <= %d MiB for 10000: %s)\n",
		n, mib(serviceRSS), idleTargetMiB, verdict(mib(serviceRSS) <= idleTargetMiB))
	return nil
}

// mib converts bytes to MiB.
func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// child is a target served by a child process of the benchmark, so that
// its memory can be measured on its own.
type child struct {
	pid int
	url string // the client URL the child printed
	cmd *exec.Cmd
	in  io.Closer // the child exits when this closes
}

// startChild starts `-child name` and reads the client URL it prints.
func startChild(name string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-child", name)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{pid: cmd.Process.Pid, cmd: cmd, in: stdin}
	if c.url, err = readChildURL(stdout); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// stop ends the child, killing it if it does not exit within 5 seconds.
func (c *child) stop() {
	c.in.Close()
	waited := make(chan struct{})
	go func() { c.cmd.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-waited
	}
}

// measureIdle starts `-child name`, reads its RSS, connects n idle clients
// that only answer pings, waits for things to settle and reads its RSS again.
func measureIdle(name string, n int) (before, after int64, err error) {
	c, err := startChild(name)
	if err != nil {
		return 0, 0, err
	}
	defer c.stop()
	url := c.url
	if before, err = residentBytes(c.pid); err != nil {
		return 0, 0, err
	}
	conns, err := dialAll(url, n)
	if err != nil {
		return 0, 0, err
	}
	var readers sync.WaitGroup
	for _, conn := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, _, err := conn.NextReader(); err != nil {
					return
				}
			}
		}()
	}
	defer func() {
		for _, conn := range conns {
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			conn.Close()
		}
		readers.Wait()
	}()
	time.Sleep(settleTime)
	after, err = residentBytes(c.pid)
	return before, after, err
}

// readChildURL reads the client URL the child prints on its first line.
func readChildURL(stdout io.Reader) (string, error) {
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		url, ok := strings.CutPrefix(s, "URL ")
		if !ok {
			return "", fmt.Errorf("child printed %q, want a URL line", s)
		}
		return url, nil
	case <-time.After(childStartup):
		return "", errors.New("child did not start in time")
	}
}

// residentBytes returns VmRSS, the resident memory, of process pid.
func residentBytes(pid int) (int64, error) {
	return procStatusBytes(pid, "VmRSS:")
}

// serveChild runs the named target on loopback, prints "URL <client url>"
// and serves until stdin closes (so it never outlives its parent).
func serveChild(name string, stdin io.Reader, stdout io.Writer) error {
	var t target
	var err error
	if name == "service" {
		t, err = startService("127.0.0.1:0")
	} else {
		t, err = startBare("127.0.0.1:0")
	}
	if err != nil {
		return err
	}
	defer t.close()
	fmt.Fprintf(stdout, "URL %s\n", t.clientURL)
	io.Copy(io.Discard, stdin)
	return nil
}
