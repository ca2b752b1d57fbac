package proctest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// listenTimeout bounds how long Start waits for the process to say where
// it listens.
const listenTimeout = 10 * time.Second

// Cmd is a process to start, for when Start's conventions do not fit.
type Cmd struct {
	// Bin is the path of the binary, Args its arguments.
	Bin  string
	Args []string

	// AddrFrom picks the listening address out of one line of the
	// process's output. It is called with each complete line, stdout and
	// stderr alike, until it reports ok. Nil means the examples'
	// convention: the text after "listening on " on a line.
	AddrFrom func(line string) (addr string, ok bool)

	// OnLine, if not nil, is called with each line of output (stdout and
	// stderr, without the newline), one call at a time and in the order
	// the process wrote them. Every call has returned before Done is
	// closed, the last one with any unterminated last line.
	OnLine func(line string)
}

// Process is a binary started by Start, running or exited.
type Process struct {
	t    testing.TB
	name string // the binary's base name, for messages
	cmd  *exec.Cmd
	addr string
	out  LockedBuffer

	done chan struct{}
	err  error // of cmd.Wait; set before done is closed
}

// Start starts bin with args and returns once the process has written a
// line containing "listening on ADDR" to stdout or stderr; Addr returns
// ADDR. It fails the test if the process exits first, or has not written
// that line within 10 seconds. When the test ends the process is killed
// if still running, and its output is logged if the test failed.
func Start(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	return Cmd{Bin: bin, Args: args}.Start(t)
}

// Start starts the process as the package-level Start does, with c's
// choices of where the address comes from and who else reads the output.
func (c Cmd) Start(t testing.TB) *Process {
	t.Helper()
	addrFrom := c.AddrFrom
	if addrFrom == nil {
		addrFrom = listeningOn
	}
	addrc := make(chan string, 1)
	p := &Process{t: t, name: filepath.Base(c.Bin), cmd: exec.Command(c.Bin, c.Args...), done: make(chan struct{})}
	lines := &lineWriter{out: &p.out, line: func(line string) {
		if addrFrom != nil {
			if addr, ok := addrFrom(line); ok {
				addrc <- addr
				addrFrom = nil
			}
		}
		if c.OnLine != nil {
			c.OnLine(line)
		}
	}}
	// One writer for both streams makes os/exec give the process a
	// single pipe for them: its output arrives in the order it wrote it,
	// and is read by one goroutine.
	p.cmd.Stdout, p.cmd.Stderr = lines, lines
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("proctest: start %s: %v", p.name, err)
	}
	go func() {
		// Wait returns only once the output has all been copied, so
		// every line has been seen when done is closed.
		err := p.cmd.Wait()
		lines.flush()
		p.err = err
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.name, p.out.String())
		}
	})

	timer := time.NewTimer(listenTimeout)
	defer timer.Stop()
	select {
	case p.addr = <-addrc:
	case <-p.done:
		select {
		case p.addr = <-addrc: // announced, then exited at once
		default:
			t.Fatalf("%s exited before listening: %v\n%s", p.name, p.err, p.out.String())
		}
	case <-timer.C:
		t.Fatalf("%s did not print its address within %v", p.name, listenTimeout)
	}
	return p
}

// listeningOn is the examples' convention for saying where they listen.
func listeningOn(line string) (string, bool) {
	_, addr, ok := strings.Cut(line, "listening on ")
	return strings.TrimSpace(addr), ok
}

// Addr returns the address the process said it listens on, as it wrote it
// (for the examples, host:port).
func (p *Process) Addr() string { return p.addr }

// Output returns what the process has written so far to stdout and
// stderr, interleaved in the order it wrote it.
func (p *Process) Output() string { return p.out.String() }

// Signal sends sig to the process, and fails the test if that fails (as
// it does once the process has exited). Call it from the test's goroutine.
func (p *Process) Signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %s: %v", p.name, err)
	}
}

// Wait waits for the process to exit and returns the error of
// exec.Cmd.Wait: nil for exit status 0, an *exec.ExitError otherwise. It
// fails the test if the process is still running after limit. Call it
// from the test's goroutine.
func (p *Process) Wait(limit time.Duration) error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	default:
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.err
	case <-timer.C:
		p.t.Fatalf("%s did not exit within %v", p.name, limit)
		return nil
	}
}

// Done returns a channel that is closed once the process has exited and
// all its output has been read.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns what Wait would, once Done is closed; before, it returns
// nil.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// lineWriter copies the process's output to out and hands each complete
// line to line.
type lineWriter struct {
	out  *LockedBuffer
	line func(string)

	mu      sync.Mutex // os/exec writes from one goroutine; flush runs after it
	partial bytes.Buffer
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.out.Write(b)
	w.partial.Write(b)
	for {
		i := bytes.IndexByte(w.partial.Bytes(), '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string(w.partial.Next(i + 1))
		w.line(line[:i])
	}
}

// flush hands on an unterminated last line.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.partial.Len() > 0 {
		w.line(w.partial.String())
		w.partial.Reset()
	}
}
