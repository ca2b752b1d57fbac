package privdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/probekit/probekit/internal/prereq"
)

// Postgres is a private PostgreSQL server on a loopback port, with trust
// authentication for the user postgres, fsync off, and its unix socket in
// its own temporary directory. Its methods are meant to be called from the
// test's goroutine.
type Postgres struct {
	t    testing.TB
	bin  pgBin
	dir  string
	port int

	mu   sync.Mutex
	proc *process // nil while stopped
}

// StartPostgres starts a PostgreSQL server on a free loopback port and
// returns once it accepts queries. The server is stopped and its files are
// removed when the test ends.
//
// The database cluster is initialised once per test binary and copied for
// each server (initdb takes seconds); use WithCleanup in TestMain to remove
// that copy when the tests end. As root, the server runs as the user
// postgres, since PostgreSQL refuses to run as root.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin, err := findPostgres()
	if err != nil {
		prereq.Skip(t, "initdb, pg_ctl and postgres (Debian package postgresql)", err)
	}
	if bin.cred, err = serverUser(); err != nil {
		prereq.Skip(t, "a user named postgres to run the server as, since PostgreSQL refuses to run as root (Debian package postgresql creates it)", err)
	}
	tmpl, err := template(bin)
	if err != nil {
		t.Fatalf("privdb: %v", err)
	}
	dir, err := bin.mkdir("privdb-pg-")
	if err != nil {
		t.Fatalf("privdb: %v", err)
	}
	p := &Postgres{t: t, bin: bin, dir: dir, port: freePort(t)}
	t.Cleanup(func() {
		p.Stop()
		_ = os.RemoveAll(dir)
	})
	// cp -a keeps the owner and the 0700 mode postgres insists on.
	if out, err := exec.Command("cp", "-a", filepath.Join(tmpl, "data"), p.data()).CombinedOutput(); err != nil {
		t.Fatalf("privdb: copy the database cluster: %v\n%s", err, out)
	}
	if err := bin.mkdirOwned(filepath.Join(dir, "sock")); err != nil {
		t.Fatalf("privdb: %v", err)
	}
	p.Start()
	return p
}

// DSN returns a connection string for the database postgres as the user
// postgres, over TCP without TLS. It stays the same across Stop and Start.
func (p *Postgres) DSN() string {
	return fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", p.Addr())
}

// Addr returns the server's host:port.
func (p *Postgres) Addr() string { return addr(p.port) }

func (p *Postgres) data() string { return filepath.Join(p.dir, "data") }
func (p *Postgres) log() string  { return filepath.Join(p.dir, "postgres.log") }

// Stop stops the server with "pg_ctl stop -m immediate", as a crash would:
// backends quit at once, clients see their connections closed and new ones
// refused. It returns once the server is gone. Stopping a stopped server
// does nothing.
func (p *Postgres) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return
	}
	cmd := exec.Command(p.bin.pgCtl, "stop", "-D", p.data(), "-m", "immediate", "-w", "-t", "30")
	p.bin.runAs(cmd)
	out, err := cmd.CombinedOutput()
	select {
	case <-p.proc.exited:
	case <-time.After(readyTimeout):
		err = errors.Join(err, errors.New("postmaster still running"))
	}
	if err != nil {
		// Take the whole process group down, so that no backend outlives
		// the test, and say why.
		_ = syscall.Kill(-p.proc.cmd.Process.Pid, syscall.SIGKILL)
		<-p.proc.exited
		p.t.Errorf("privdb: pg_ctl stop: %v\n%s", err, out)
	}
	p.proc = nil
}

// Start starts the server (again) on the same port and returns once it
// accepts queries; after Stop, that includes crash recovery. Starting a
// running server does nothing.
func (p *Postgres) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		return
	}
	logf, err := os.OpenFile(p.log(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatalf("privdb: %v", err)
	}
	defer logf.Close()
	cmd := exec.Command(p.bin.postgres, "-D", p.data(), "-p", strconv.Itoa(p.port),
		"-k", filepath.Join(p.dir, "sock"), "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=40")
	cmd.Stdout, cmd.Stderr = logf, logf
	p.bin.runAs(cmd)
	proc, err := startProcess(cmd)
	if err != nil {
		p.t.Fatalf("privdb: start postgres: %v", err)
	}
	err = waitFor(proc.exited, func(ctx context.Context) error {
		c, err := pgconn.Connect(ctx, p.DSN())
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
	if err != nil {
		_ = syscall.Kill(-proc.cmd.Process.Pid, syscall.SIGKILL)
		<-proc.exited
		p.t.Fatalf("privdb: postgres on %s: %v\nlog:\n%s", p.Addr(), err, tail(p.log()))
	}
	p.proc = proc
}

// pgBin locates the server programs and the user they run as.
type pgBin struct {
	initdb, pgCtl, postgres string
	cred                    *syscall.Credential // nil: run as ourselves
}

// findPostgres looks for initdb next to pg_ctl and postgres: on PATH, in
// /usr/local/bin, then in the newest /usr/lib/postgresql/*/bin.
func findPostgres() (pgBin, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	dirs = append(dirs, "/usr/local/bin")
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(versions, func(a, b string) int { return pgVersion(b) - pgVersion(a) })
	dirs = append(dirs, versions...)
	var b pgBin
	for _, d := range dirs {
		b = pgBin{initdb: filepath.Join(d, "initdb"), pgCtl: filepath.Join(d, "pg_ctl"), postgres: filepath.Join(d, "postgres")}
		if executable(b.initdb) && executable(b.pgCtl) && executable(b.postgres) {
			break
		}
		b = pgBin{}
	}
	if b.initdb == "" {
		return b, fmt.Errorf("no directory with initdb, pg_ctl and postgres among %v", dirs)
	}
	return b, nil
}

// serverUser returns the credential the server runs as: nil (ourselves),
// or, as root, the user postgres.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// runAs makes cmd run as the server's user, in a process group of its own
// (so that a stray backend can be killed with its postmaster), and killed
// by the kernel should the test binary die.
func (b pgBin) runAs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: b.cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
}

// mkdir makes a temporary directory owned by the server's user.
func (b pgBin) mkdir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	if b.cred != nil {
		if err := os.Chown(dir, int(b.cred.Uid), int(b.cred.Gid)); err != nil {
			_ = os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

func (b pgBin) mkdirOwned(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if b.cred != nil {
		return os.Chown(dir, int(b.cred.Uid), int(b.cred.Gid))
	}
	return nil
}

// The database cluster every server of this test binary starts from.
var tmpl struct {
	sync.Mutex
	dir string
	err error
}

func template(b pgBin) (string, error) {
	tmpl.Lock()
	defer tmpl.Unlock()
	if tmpl.dir != "" || tmpl.err != nil {
		return tmpl.dir, tmpl.err
	}
	dir, err := b.mkdir("privdb-pg-template-")
	if err != nil {
		tmpl.err = err
		return "", err
	}
	cmd := exec.Command(b.initdb, "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync")
	b.runAs(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		tmpl.err = fmt.Errorf("initdb: %v\n%s", err, out)
		return "", tmpl.err
	}
	tmpl.dir = dir
	return dir, nil
}

// WithCleanup wraps the m of a TestMain so that, once the tests have run,
// the database cluster StartPostgres copies is removed:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(privdb.WithCleanup(m)) }
func WithCleanup(m interface{ Run() int }) interface{ Run() int } {
	return cleanupRunner{m}
}

type cleanupRunner struct{ m interface{ Run() int } }

func (c cleanupRunner) Run() int {
	code := c.m.Run()
	tmpl.Lock()
	defer tmpl.Unlock()
	if tmpl.dir != "" {
		_ = os.RemoveAll(tmpl.dir)
		tmpl.dir = ""
	}
	return code
}
