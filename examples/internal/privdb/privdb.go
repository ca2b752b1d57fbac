// Package privdb starts private Redis and PostgreSQL servers for tests, on
// free loopback ports in temporary directories, so that a test can kill,
// stop and restart a real dependency without touching the machine's shared
// servers. Each server is killed when its test ends.
//
// It also has Proxy, a loopback TCP proxy that counts what a client sends
// through it and can cut or blackhole the connection to a server that keeps
// running.
//
// A test whose machine lacks redis-server, or initdb, pg_ctl and postgres,
// is skipped with a message naming them (see package prereq, whose Prefix
// .ci/run looks for so that CI cannot pass by skipping).
package privdb

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readyTimeout bounds every wait for a server to accept connections.
const readyTimeout = 30 * time.Second

// freePort returns a loopback TCP port that was free a moment ago. The
// server that is then started on it binds it itself, since redis-server and
// postgres cannot be handed a listener; another process could take the port
// in between, which on a test machine does not happen in practice.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("privdb: find a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("privdb: free port %d: %v", port, err)
	}
	return port
}

// waitFor polls ready until it returns nil or readyTimeout passes, or the
// process behind exited (exited is closed). The error names the last
// failure.
func waitFor(exited <-chan struct{}, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		attempt, done := context.WithTimeout(ctx, time.Second)
		err := ready(attempt)
		done()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("server exited before accepting connections (last attempt: %w)", err)
		case <-ctx.Done():
			return fmt.Errorf("server not ready after %v: %w", readyTimeout, err)
		case <-tick.C:
		}
	}
}

// redisPing sends PING on a fresh connection and expects +PONG, so that a
// server still loading is not taken for a ready one.
func redisPing(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// tail returns the end of a server's log file, for failure messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// process is a server started as a child of the test binary.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when Wait returns
	err    error         // Wait's error; read after exited is closed
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
