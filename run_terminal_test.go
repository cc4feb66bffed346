//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY returns the two ends of a new pseudo-terminal, or skips the test
// where there is none.
func openPTY(t *testing.T) (master, terminal *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	var unlock int32
	var number uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		master.Close()
		t.Skipf("no pseudo-terminal: unlock: %v", errno)
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&number))); errno != 0 {
		master.Close()
		t.Skipf("no pseudo-terminal: number: %v", errno)
	}
	terminal, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", number), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	return master, terminal
}

// TestProcess_TerminalEscapes checks that what a script prints, and its
// error, reach a terminal with control characters escaped, so that a
// script cannot rewrite the screen; TestRun_Errors/ControlCharacters checks
// that a pipe gets the bytes as they are.
func TestProcess_TerminalEscapes(t *testing.T) {
	t.Parallel()
	path := builtWPS(t)
	master, terminal := openPTY(t)
	cmd := newCommand(path, "run", "testdata/run/control.lua")
	cmd.Stdout, cmd.Stderr = terminal, terminal
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	terminal.Close() // the child has its own copy
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&screen, master) // ends with EIO once the child has exited
		close(read)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("wps did not exit within 30s")
	}
	<-read
	got := strings.ReplaceAll(screen.String(), "\r\n", "\n")
	want := "red\\x1b[31mtext\\rover\ttab\tand\ntestdata/run/control.lua:2: clear\\x1b[2Jscreen\nstack traceback:\n"
	if !strings.HasPrefix(got, want) || strings.ContainsAny(got, "\x1b\r") {
		t.Errorf("the terminal shows:\n%q\nwant it to begin with:\n%q\nand to hold no escape or carriage return", got, want)
	}
	if cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("status %d, want 1", cmd.ProcessState.ExitCode())
	}
}
