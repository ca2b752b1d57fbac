package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// binDir holds the binaries built once per test run; TestMain removes it.
var binDir string

var seedappOnce = sync.OnceValues(func() (string, error) {
	return build(".", filepath.Join(binDir, "seedapp"))
})

// seedappBinary returns the seed app built from this package.
func seedappBinary(t *testing.T) string {
	t.Helper()
	bin, err := seedappOnce()
	require.NoError(t, err)
	return bin
}

// build runs go build -o bin pkg with env added to the environment.
func build(pkg, bin string, env ...string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(goBin, "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// proc is a running example binary.
type proc struct {
	cmd    *exec.Cmd
	addr   string // what it printed after "listening on "
	stderr *lockedBuffer
	exited chan struct{}
	err    error // of Wait; read after exited is closed
}

// startBinary starts bin with args and waits for it to print its address.
// The process is killed at cleanup if it is still running.
func startBinary(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	addrc := make(chan string, 1)
	p := &proc{
		cmd:    exec.Command(bin, args...),
		stderr: new(lockedBuffer),
		exited: make(chan struct{}),
	}
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
			t.Logf("%s stderr:\n%s", filepath.Base(bin), p.stderr.String())
		}
	})
	select {
	case p.addr = <-addrc:
	case <-p.exited:
		t.Fatalf("%s exited before listening: %v\n%s", bin, p.err, p.stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not print its address within 10s", bin)
	}
	return p
}

// stop sends SIGTERM and waits for the process to exit.
func (p *proc) stop(t *testing.T) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		return p.err
	case <-time.After(15 * time.Second):
		t.Fatalf("process did not exit within 15s of SIGTERM")
		return nil
	}
}

// addrWriter passes on the address from the first "listening on ADDR" line.
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
		for _, line := range strings.Split(data[:i], "\n") { // complete lines only
			if _, addr, ok := strings.Cut(line, "listening on "); ok {
				w.addr <- strings.TrimSpace(addr)
				w.addr = nil
				break
			}
		}
	}
	return len(p), nil
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
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

// client makes one fresh connection per request, as the kubelet does.
var client = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// do sends a request to the process and returns the status code.
func (p *proc) do(t *testing.T, method, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+p.addr+path, nil)
	require.NoError(t, err)
	res, err := client.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	return res.StatusCode
}
