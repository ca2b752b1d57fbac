package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// proc is the example, built and running as a process of its own.
type proc struct {
	cmd    *exec.Cmd
	addr   string // from its "listening on ADDR" line
	stderr *lockedBuffer
	exited chan struct{}
	err    error // of Wait; read after exited is closed
}

// startBuilt builds this package and starts it with args, and waits for it
// to print its address. It is killed at cleanup if still running.
func startBuilt(t *testing.T, args ...string) *proc {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shutdown")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)

	addrc := make(chan string, 1)
	p := &proc{cmd: exec.Command(bin, args...), stderr: new(lockedBuffer), exited: make(chan struct{})}
	p.cmd.Stdout = &addrWriter{addr: addrc}
	p.cmd.Stderr = p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("stderr of the process:\n%s", p.stderr.String())
		}
	})
	select {
	case p.addr = <-addrc:
	case <-p.exited:
		t.Fatalf("exited before listening: %v\n%s", p.err, p.stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("did not print its address within 10s")
	}
	return p
}

// sigterm sends SIGTERM.
func (p *proc) sigterm(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
}

// wait waits for the process to exit and returns Wait's error.
func (p *proc) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(limit):
		t.Fatalf("process did not exit within %v", limit)
		return nil
	}
}

// addrWriter passes on the address of the first complete
// "listening on ADDR" line.
type addrWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan<- string
}

func (w *addrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.addr == nil {
		return len(p), nil
	}
	data := w.buf.String()
	if i := strings.LastIndexByte(data, '\n'); i >= 0 {
		for _, line := range strings.Split(data[:i], "\n") {
			if _, addr, ok := strings.Cut(line, "listening on "); ok {
				w.addr <- strings.TrimSpace(addr)
				w.addr = nil
				break
			}
		}
	}
	return len(p), nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventLog records events in the order they happen: each is appended, under
// one lock, by the goroutine that saw it, right when it saw it.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

// add appends ev unless it is already there, so that "first X" events can
// be added unconditionally.
func (l *eventLog) add(ev string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e == ev {
			return
		}
	}
	l.events = append(l.events, ev)
}

func (l *eventLog) index(ev string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.events {
		if e == ev {
			return i
		}
	}
	return -1
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%q", l.events)
}
