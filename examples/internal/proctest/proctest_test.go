package proctest_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/probekit/probekit/examples/internal/proctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }

const hello = "./testdata/hello"

// greet connects to the hello program at addr and returns its greeting.
func greet(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return line
}

func TestStartSignalWait(t *testing.T) {
	p := proctest.Start(t, proctest.Build(t, hello), "-addr", "127.0.0.1:0")

	assert.Equal(t, "hello\n", greet(t, p.Addr()), "Addr is where the process listens")
	assert.Contains(t, p.Output(), "hello starting\nhello listening on "+p.Addr()+"\n", "stderr and stdout, in the order written")
	select {
	case <-p.Done():
		t.Fatal("Done closed while the process runs")
	default:
	}
	assert.NoError(t, p.Err(), "no exit error while running")

	p.Signal(syscall.SIGTERM)
	require.NoError(t, p.Wait(10*time.Second))
	assert.True(t, strings.HasSuffix(p.Output(), "got SIGTERM\nbye, no newline"), "all output is read by the time Wait returns:\n%s", p.Output())
	<-p.Done()
	assert.NoError(t, p.Err())
}

func TestWaitReturnsExitStatus(t *testing.T) {
	p := proctest.Start(t, proctest.Build(t, hello), "-exit", "3")
	p.Signal(syscall.SIGTERM)
	err := p.Wait(10 * time.Second)
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "Wait = %v, want an *exec.ExitError", err)
	assert.Equal(t, 3, exit.ExitCode())
	assert.Equal(t, err, p.Err(), "Err once Done is closed is what Wait returned")
}

func TestBuildCachesPerPackageAndEnv(t *testing.T) {
	plain := proctest.Build(t, hello)
	assert.Equal(t, plain, proctest.Build(t, hello), "the same package is built once")
	assert.True(t, strings.HasSuffix(plain, "/hello"), "named after its package: %s", plain)

	bonjour := proctest.Build(t, hello, "GOFLAGS=-ldflags=-X=main.greeting=bonjour")
	assert.NotEqual(t, plain, bonjour, "a different environment is a different binary")
	assert.Equal(t, bonjour, proctest.Build(t, hello, "GOFLAGS=-ldflags=-X=main.greeting=bonjour"))

	p := proctest.Start(t, bonjour)
	assert.Equal(t, "bonjour\n", greet(t, p.Addr()), "the environment reached go build")
}

func TestCmdAddrFromAndOnLine(t *testing.T) {
	var (
		mu    sync.Mutex
		lines []string
	)
	p := proctest.Cmd{
		Bin: proctest.Build(t, hello),
		AddrFrom: func(line string) (string, bool) {
			return strings.CutPrefix(line, "addr=")
		},
		OnLine: func(line string) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, line)
		},
	}.Start(t)
	assert.Equal(t, "hello\n", greet(t, p.Addr()))

	p.Signal(syscall.SIGTERM)
	require.NoError(t, p.Wait(10*time.Second))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		"hello starting",
		"hello listening on " + p.Addr(),
		"addr=" + p.Addr(),
		"got SIGTERM",
		"bye, no newline",
	}, lines, "every line, in order, the unterminated last one too, before Wait returns")
}

func TestCleanupKillsTheProcess(t *testing.T) {
	bin := proctest.Build(t, hello)
	var p *proctest.Process
	t.Run("starts", func(t *testing.T) { p = proctest.Start(t, bin) })
	select {
	case <-p.Done():
	default:
		t.Fatal("the process outlived its test")
	}
	var exit *exec.ExitError
	require.True(t, errors.As(p.Err(), &exit), "Err = %v", p.Err())
	assert.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())
}

// recorder is a testing.TB whose Fatalf records the failure and ends the
// goroutine, as testing's does, without failing the real test: for
// checking that the helpers fail when they should. Everything else goes to
// the real test, so cleanups still run.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed != ""
}

// run calls f on a goroutine of its own and returns the failure it
// recorded, "" if none.
func (r *recorder) run(f func()) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	failed := r.failed
	r.failed = ""
	return failed
}

func TestStartFailsWhenTheProcessExitsFirst(t *testing.T) {
	bin := proctest.Build(t, hello)
	r := &recorder{TB: t}
	failed := r.run(func() { proctest.Start(r, bin, "-exit-early", "2") })
	assert.Contains(t, failed, "hello exited before listening: exit status 2")
	assert.Contains(t, failed, "exiting before listening", "the failure shows the output")
}

func TestWaitFailsAfterItsLimit(t *testing.T) {
	bin := proctest.Build(t, hello)
	r := &recorder{TB: t}
	var p *proctest.Process
	require.Empty(t, r.run(func() { p = proctest.Start(r, bin) }))
	assert.Equal(t, "hello did not exit within 50ms", r.run(func() { p.Wait(50 * time.Millisecond) }))
	select {
	case <-p.Done():
		t.Fatal("the process exited without being told to")
	default:
	}
}

func TestBuildFailureIsReportedAndCached(t *testing.T) {
	r := &recorder{TB: t}
	first := r.run(func() { proctest.Build(r, "./testdata/nosuch") })
	assert.Contains(t, first, "go build ./testdata/nosuch")
	assert.Equal(t, first, r.run(func() { proctest.Build(r, "./testdata/nosuch") }), "a failed build fails the same way again")
}

func TestLockedBufferConcurrentWrites(t *testing.T) {
	const writers, writes = 4, 200
	var (
		b  proctest.LockedBuffer
		wg sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for range writes {
				_, _ = fmt.Fprintf(&b, "<%d>", w)
			}
		})
	}
	wg.Go(func() {
		for range writes {
			_ = b.String() // the race detector checks reading while writing
		}
	})
	wg.Wait()
	got := b.String()
	assert.Len(t, got, writers*writes*3)
	for w := range writers {
		assert.Equal(t, writes, strings.Count(got, fmt.Sprintf("<%d>", w)), "every write kept whole")
	}
}
