package privdb

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/probekit/probekit/internal/prereq"
)

// Redis is a private redis-server on a loopback port, without persistence.
// Its methods are safe for concurrent use but are meant to be called from
// the test's goroutine.
type Redis struct {
	t    testing.TB
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	proc *process // nil while killed
}

// StartRedis starts a redis-server on a free loopback port and returns once
// it answers PING. The server is killed when the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin := prereq.LookPath(t, "redis-server", "redis-server")
	r := &Redis{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
	t.Cleanup(r.Kill)
	r.Restart()
	return r
}

// Addr returns the server's host:port. It stays the same across Restart.
func (r *Redis) Addr() string { return addr(r.port) }

// Kill kills the server with SIGKILL and returns once it is gone: clients
// see their connections reset and new ones refused. Killing a killed server
// does nothing.
func (r *Redis) Kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		r.proc.kill()
		r.proc = nil
	}
}

// Restart starts the server again on the same port, empty, and returns once
// it answers PING. It kills the server first if it is running.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Kill()
	r.mu.Lock()
	defer r.mu.Unlock()
	log := filepath.Join(r.dir, "redis.log")
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
		"--logfile", log, "--daemonize", "no")
	// Should the test binary die without cleaning up, the kernel kills
	// the server rather than leaving it running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p, err := startProcess(cmd)
	if err != nil {
		r.t.Fatalf("privdb: start redis-server: %v", err)
	}
	if err := waitFor(p.exited, func(ctx context.Context) error { return redisPing(ctx, r.Addr()) }); err != nil {
		p.kill()
		r.t.Fatalf("privdb: redis-server on %s: %v\nlog:\n%s", r.Addr(), err, tail(log))
	}
	r.proc = p
}
