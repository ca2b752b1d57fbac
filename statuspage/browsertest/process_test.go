package browsertest

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/probekit/probekit/internal/prereq"
)

// build compiles the main package pkg (an import path of the workspace)
// into the test's temporary directory.
func build(t *testing.T, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), path.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// process is a program started by a test, killed when the test ends.
type process struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed when it has exited
	err  error         // cmd.Wait's, once done is closed

	mu  sync.Mutex
	out strings.Builder
}

// lineWriter calls line with each complete line written to it.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(b), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// start runs bin with args and returns once a line of its output matches
// listening, whose first group is the address it listens on.
func start(t *testing.T, bin string, listening *regexp.Regexp, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	addrc := make(chan string, 1)
	w := &lineWriter{line: func(l string) {
		p.mu.Lock()
		p.out.WriteString(l + "\n")
		p.mu.Unlock()
		if m := listening.FindStringSubmatch(l); m != nil {
			select {
			case addrc <- m[1]:
			default:
			}
		}
	}}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s's output:\n%s", filepath.Base(bin), p.output())
		}
	})
	select {
	case p.addr = <-addrc:
	case <-p.done:
		t.Fatalf("%s exited (%v) before listening:\n%s", bin, p.err, p.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not say where it listens within 30 s:\n%s", bin, p.output())
	}
	return p
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// wait waits up to d for the exit, and returns its error.
func (p *process) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		t.Fatalf("no exit within %v:\n%s", d, p.output())
		return nil
	}
}

// redisServer is a private redis-server on a free loopback port.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	proc *exec.Cmd
	done chan struct{}
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	r := &redisServer{t: t, bin: prereq.LookPath(t, "redis-server", "redis-server"), dir: t.TempDir()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().String()
	_ = l.Close()
	t.Cleanup(r.kill)
	r.start()
	return r
}

// start starts the server on its port and returns once it answers PING.
func (r *redisServer) start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	r.proc = exec.Command(r.bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"), "--daemonize", "no")
	r.proc.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.proc.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(r.proc, r.done)
	deadline := time.Now().Add(30 * time.Second)
	for ping(r.addr) != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			r.t.Fatalf("redis-server on %s does not answer:\n%s", r.addr, log)
		}
		select {
		case <-r.done:
			r.t.Fatalf("redis-server exited")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill kills the server with SIGKILL and waits for it; killing a killed
// server does nothing.
func (r *redisServer) kill() {
	if r.proc == nil {
		return
	}
	_ = r.proc.Process.Kill()
	<-r.done
	r.proc = nil
}

func ping(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return strconv.ErrSyntax
	}
	return nil
}
