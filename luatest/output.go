package luatest

import (
	"bytes"
	"io"
	"sync"
)

// What a test prints is kept with the test, and shown only when it fails
// (or with -v): the file's state writes to one switchWriter, pointed at the
// syncBuffer of the scope running now.

// syncBuffer is a bytes.Buffer safe for concurrent writes: a script
// stopped hard may still print.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// switchWriter writes to the output of the call running now.
type switchWriter struct {
	mu  sync.Mutex
	cur io.Writer
}

func (w *switchWriter) set(to io.Writer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cur = to
}

func (w *switchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	to := w.cur
	w.mu.Unlock()
	if to == nil {
		return len(p), nil
	}
	return to.Write(p)
}
