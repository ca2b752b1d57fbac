package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"github.com/redis/go-redis/v9"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/probekit/probekit/examples/internal/privdb"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// go-redis logs failed dials to stderr; the tests provoke plenty.
	redis.SetLogger(redisLogger{slog.New(slog.DiscardHandler)})
	goleak.VerifyTestMain(removeBinary{privdb.WithCleanup(m)},
		// go-redis's background dialer sleeps a second between dials and
		// only then sees that its client was closed.
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}

// The service's binary, built once per test run by buildBinary.
var bin struct {
	once      sync.Once
	dir, path string
	err       error
}

type removeBinary struct{ m interface{ Run() int } }

func (r removeBinary) Run() int {
	code := r.m.Run()
	if bin.dir != "" {
		_ = os.RemoveAll(bin.dir)
	}
	return code
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin.once.Do(func() {
		bin.dir, bin.err = os.MkdirTemp("", "dependencies-bin-")
		if bin.err != nil {
			return
		}
		bin.path = filepath.Join(bin.dir, "dependencies")
		gobin, err := exec.LookPath("go") // go test puts its own go first on PATH
		if err != nil {
			bin.err = err
			return
		}
		out, err := exec.Command(gobin, "build", "-o", bin.path, ".").CombinedOutput()
		if err != nil {
			bin.err = &buildError{err: err, out: out}
		}
	})
	if bin.err != nil {
		t.Fatalf("build the service: %v", bin.err)
	}
	return bin.path
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// service is the real binary, running.
type service struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port

	mu    sync.Mutex
	lines []map[string]any
	raw   []string
	grew  chan struct{} // closed and replaced when a line arrives

	exited chan struct{}
	err    error
}

// startService runs the binary with args (plus -addr 127.0.0.1:0) and
// returns once it has logged its address.
func startService(t *testing.T, args ...string) *service {
	t.Helper()
	cmd := exec.Command(buildBinary(t), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &service{t: t, cmd: cmd, grew: make(chan struct{}), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.add(sc.Text())
		}
	}()
	go func() {
		<-read // Wait closes the pipe: read it all first
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("service log:\n%s", strings.Join(s.rawLines(), "\n"))
		}
	})
	line := s.waitLog(0, 10*time.Second, func(l map[string]any) bool { return l["msg"] == "listening" })
	s.base = "http://" + line["addr"].(string)
	return s
}

func (s *service) add(line string) {
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		m = map[string]any{"msg": "(not JSON)", "line": line}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, m)
	s.raw = append(s.raw, line)
	close(s.grew)
	s.grew = make(chan struct{})
}

func (s *service) rawLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.raw...)
}

// mark returns how many lines the service has logged so far, for waitLog.
func (s *service) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lines)
}

// waitLog returns the first log line after the first from lines that match
// accepts, waiting up to d for it.
func (s *service) waitLog(from int, d time.Duration, match func(map[string]any) bool) map[string]any {
	s.t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	seen := from
	for {
		s.mu.Lock()
		lines, grew := s.lines[seen:], s.grew
		seen = len(s.lines)
		s.mu.Unlock()
		for _, l := range lines {
			if match(l) {
				return l
			}
		}
		select {
		case <-grew:
		case <-s.exited:
			s.t.Fatalf("service exited (%v) before logging the line awaited", s.err)
		case <-deadline.C:
			s.t.Fatalf("no such log line within %v", d)
		}
	}
}

// breakerLog matches the registry's log line for the breaker of check
// moving to state to.
func breakerLog(check, to string) func(map[string]any) bool {
	return func(l map[string]any) bool {
		return l["msg"] == "health circuit breaker changed state" && l["check"] == check && l["to"] == to
	}
}

// statusLog matches the registry's log line for check changing to status.
func statusLog(check, to string) func(map[string]any) bool {
	return func(l map[string]any) bool {
		return l["msg"] == "health status changed" && l["check"] == check && l["to"] == to
	}
}

var client = &http.Client{Timeout: 3 * time.Second}

// get returns the status code and body of GET url; code 0 means the request
// itself failed.
func get(url string) (int, string) { return do(http.MethodGet, url) }

func do(method, url string) (int, string) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// await polls cond every 20 ms until it returns true, and fails the test if
// that takes longer than limit. It returns how long it took.
func await(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		<-tick.C
	}
	return time.Since(start)
}

// readyCode returns the status code of /ready.
func readyCode(base string) int {
	code, _ := get(base + "/ready")
	return code
}

// breakerState returns the "breaker" field of check in the JSON of /ready.
func breakerState(base, check string) string {
	_, body := get(base + "/ready")
	var rep struct {
		Checks map[string][]struct {
			Breaker string `json:"breaker"`
		} `json:"checks"`
	}
	if json.Unmarshal([]byte(body), &rep) != nil || len(rep.Checks[check]) == 0 {
		return ""
	}
	return rep.Checks[check][0].Breaker
}

// livenessWatch polls / every 20 ms until stop is called, and returns how
// many polls it made and the failures it saw.
type livenessWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	polls  int
	bad    []string
}

func watchLiveness(base string) *livenessWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &livenessWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			code, body := get(base + "/")
			w.polls++
			if code != http.StatusOK {
				w.bad = append(w.bad, strings.TrimSpace(body))
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *livenessWatch) stop() (polls int, bad []string) {
	w.cancel()
	<-w.done
	return w.polls, w.bad
}

// term sends SIGTERM.
func (s *service) term() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
}

// wait returns the exit error once the service exits, failing the test if
// that takes longer than limit.
func (s *service) wait(limit time.Duration) error {
	s.t.Helper()
	select {
	case <-s.exited:
		return s.err
	case <-time.After(limit):
		s.t.Fatalf("service still running after %v", limit)
		return nil
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes, for loggers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
