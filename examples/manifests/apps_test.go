package manifests_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/probekit/probekit/examples/internal/proctest"
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
	args := append(append([]string{}, c.Args...), "-addr=127.0.0.1:0")
	if spec.drainFlag != "" {
		args = append(args, "-"+spec.drainFlag+"=0s") // the last value wins
	}
	// spec.pkg is relative to the examples module, the parent directory.
	p := proctest.Start(t, proctest.Build(t, filepath.Join("..", spec.pkg)), args...)
	addr := p.Addr()

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

	p.Signal(syscall.SIGTERM)
	assert.NoError(t, p.Wait(15*time.Second), "exit status after SIGTERM")
}
