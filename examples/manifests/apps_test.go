package manifests_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// TestProbesMatchApp runs each known example app with its manifest's
// container args (listening on loopback instead) and sends every probe of
// the manifest to it: each path must exist and answer what the app
// documents, and liveness must contain no dependency check.
func TestProbesMatchApp(t *testing.T) {
	for _, pt := range podTemplates(loadManifests(t)) {
		dir := filepath.Dir(pt.m.file)
		spec, known := apps[dir]
		if !known {
			t.Logf("%s: no app registered for %s in apps: probe paths not cross-checked", pt.m.file, dir)
			continue
		}
		for _, c := range pt.spec.Containers {
			t.Run(pt.m.file+"/"+c.Name, func(t *testing.T) {
				checkAgainstApp(t, spec, c)
			})
		}
	}
}

func checkAgainstApp(t *testing.T, spec appSpec, c corev1.Container) {
	bin := filepath.Join(t.TempDir(), "app")
	build := exec.Command("go", "build", "-o", bin, spec.pkg)
	build.Dir = ".." // the examples module
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", spec.pkg, out)

	args := append(append([]string{}, c.Args...), "-addr=127.0.0.1:0")
	if spec.drainFlag != "" {
		args = append(args, "-"+spec.drainFlag+"=0s") // the last value wins
	}
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), "listening on "); ok {
				addrc <- strings.TrimSpace(addr)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	var addr string
	select {
	case addr = <-addrc:
	case err := <-exited:
		t.Fatalf("%s exited before listening: %v", spec.pkg, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not print its address within 10s", spec.pkg)
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for kind, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			continue
		}
		want, ok := spec.status[p.HTTPGet.Path]
		if !assert.True(t, ok, "%s probe path %s is not one the app documents", kind, p.HTTPGet.Path) {
			continue
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+p.HTTPGet.Path, nil)
		require.NoError(t, err)
		req.Header.Set("User-Agent", "kube-probe/1.37") // as the kubelet sends it
		res, err := client.Do(req)
		require.NoError(t, err)
		var rep struct {
			Checks map[string][]struct {
				Breaker string `json:"breaker"`
			} `json:"checks"`
		}
		decodeErr := json.NewDecoder(res.Body).Decode(&rep)
		_ = res.Body.Close()
		cancel()
		assert.Equal(t, want, res.StatusCode, "%s probe GET %s", kind, p.HTTPGet.Path)
		if kind == "liveness" {
			require.NoError(t, decodeErr, "liveness answers a JSON health report")
			for name, entries := range rep.Checks {
				for _, e := range entries {
					assert.Empty(t, e.Breaker, "liveness contains dependency check %q: a dependency outage would restart the pod", name)
				}
			}
		}
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		assert.NoError(t, err, "exit status after SIGTERM")
	case <-time.After(15 * time.Second):
		t.Errorf("%s did not exit within 15s of SIGTERM", spec.pkg)
	}
}
