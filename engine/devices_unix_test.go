//go:build unix

package engine

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
)

// TestEngine_RunFile_Devices checks what happens when FILE is not a regular
// file: an endless device is refused, and Ctrl-C (a cancelled context)
// stops the wait on a FIFO nobody writes to.
func TestEngine_RunFile_Devices(t *testing.T) {
	e := newEngine(t, newOutput(), Options{})
	err := e.RunFile(context.Background(), "/dev/zero", nil)
	if err == nil || err.Error() != "/dev/zero: not a Lua script: larger than 16 MiB" {
		t.Errorf("/dev/zero: error %v, want it refused as too large", err)
	}

	fifo := t.TempDir() + "/script.lua"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Let the reading goroutine that RunFile leaves behind see an end of file.
	t.Cleanup(func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = e.RunFile(ctx, fifo, nil)
	if !Interrupted(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("FIFO with no writer: error %v, want interrupted", err)
	}
}
