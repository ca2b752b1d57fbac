package main

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/examples/internal/proctest"
)

// proc is the seed app, built and running as a process of its own.
type proc struct{ *proctest.Process }

// startBinary builds this package and starts it with args; it returns once
// the app has printed its address, and is killed at cleanup.
func startBinary(t *testing.T, args ...string) proc {
	t.Helper()
	return proc{proctest.Start(t, proctest.Build(t, "."), args...)}
}

// stop sends SIGTERM and waits for the process to exit.
func (p proc) stop(t *testing.T) error {
	t.Helper()
	p.Signal(syscall.SIGTERM)
	return p.Wait(15 * time.Second)
}

// client makes one fresh connection per request, as the kubelet does.
var client = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// do sends a request to the process and returns the status code.
func (p proc) do(t *testing.T, method, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+p.Addr()+path, nil)
	require.NoError(t, err)
	res, err := client.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	return res.StatusCode
}
