package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/examples/internal/privdb"
	"github.com/probekit/probekit/examples/internal/proctest"
	"github.com/probekit/probekit/internal/prereq"
)

// promLimit bounds each wait for Prometheus to see something: scrapes and
// rule evaluations come every second, so this only ends a hung test.
const promLimit = 60 * time.Second

// TestPrometheusSeesAnOutage runs a real Prometheus server that scrapes the
// real binary every second while a private Redis is killed and restarted,
// and asks Prometheus' HTTP API what it recorded: the breaker opening and
// closing, readiness failing and recovering, the example alerting rules
// going pending, and liveness untouched throughout.
func TestPrometheusSeesAnOutage(t *testing.T) {
	rs := privdb.StartRedis(t)
	svc := startService(t, append([]string{"-redis", rs.Addr()}, testArgs...)...)
	rules, err := filepath.Abs(filepath.Join("..", "alerts", "probekit.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	prom := startPrometheus(t, svc.Addr(), rules)

	prom.await(`up{job="dependencies"} == 1`)
	prom.await(`probekit_healthgroup{group="readiness"} == 1`)
	prom.await(`probekit_breaker_state{name="redis"} == 0`)

	rs.Kill()
	prom.await(`probekit_healthcheck{group="readiness",name="redis"} == 0`)
	prom.await(`probekit_healthgroup{group="readiness"} == 0`)
	open := prom.await(`probekit_breaker_state{name="redis"} == 2`)
	if got := open[0].Metric["instance"]; got != svc.Addr() {
		t.Errorf("breaker series of instance %q, want the service's %q", got, svc.Addr())
	}
	prom.await(`ALERTS{alertname="ProbekitBreakerOpen",alertstate="pending",name="redis"}`)
	prom.await(`ALERTS{alertname="ProbekitNotReady",alertstate="pending",group="readiness"}`)

	rs.Restart()
	prom.await(`probekit_breaker_state{name="redis"} == 0`)
	prom.await(`probekit_healthgroup{group="readiness"} == 1`)
	prom.await(`absent(ALERTS{alertname="ProbekitBreakerOpen"})`)

	// What the stored history says about the outage.
	for _, expr := range []string{
		`max_over_time(probekit_breaker_state{name="redis"}[10m]) == 2`,
		`probekit_breaker_state_changes_total{name="redis",to="open"} >= 1`,
		`probekit_breaker_state_changes_total{name="redis",to="closed"} >= 1`,
		`probekit_healthchecks_total{name="redis",result="fail"} >= 1`,
		`probekit_healthgroup_transitions_total{group="readiness",to="fail"} >= 1`,
		// Readiness failed because of Redis, not because of the switch.
		`min_over_time(probekit_healthcheck{group="readiness",name="ready"}[10m]) == 1`,
		// A dependency never fails liveness: nothing restarts the pod.
		`min_over_time(probekit_healthgroup{group="liveness"}[10m]) == 1`,
	} {
		if len(prom.query(expr)) == 0 {
			t.Errorf("Prometheus: %s is empty", expr)
		}
	}
}

// The binary's whole /metrics (health, Go runtime and process metrics)
// passes Prometheus' linter.
func TestMetricsPassPromtool(t *testing.T) {
	promtool := prereq.LookPath(t, "promtool", "prometheus")
	rs := privdb.StartRedis(t)
	svc := startService(t, append([]string{"-redis", rs.Addr()}, testArgs...)...)
	await(t, 10*time.Second, "ready", func() bool { return readyCode(svc.base) == http.StatusOK })
	code, body := get(svc.base + "/metrics")
	if code != http.StatusOK || !strings.Contains(body, `probekit_breaker_state{name="redis"} 0`) {
		t.Fatalf("/metrics = %d, want 200 with the redis breaker closed:\n%s", code, body)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || out.Len() > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}

// prometheusServer is Debian's prometheus binary, private to one test: a
// free loopback port, storage in the test's temporary directory, killed
// when the test ends.
type prometheusServer struct {
	t    *testing.T
	base string // http://127.0.0.1:port
}

// startPrometheus starts a Prometheus that scrapes target's /metrics and
// evaluates ruleFiles every second, and returns once it is ready for
// queries.
func startPrometheus(t *testing.T, target string, ruleFiles ...string) *prometheusServer {
	t.Helper()
	bin := prereq.LookPath(t, "prometheus", "prometheus")
	dir := t.TempDir()
	rules, _ := json.Marshal(ruleFiles) // a JSON list is a YAML flow sequence
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: %s
scrape_configs:
  - job_name: dependencies
    metrics_path: /metrics
    static_configs:
      - targets: [%q]
`, rules, target)
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := proctest.Cmd{
		Bin: bin,
		// Flags of Prometheus 2.42 (Debian 12); every path is the test's.
		Args: []string{
			"--config.file=" + configFile,
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--web.console.templates=" + filepath.Join(dir, "consoles"),
			"--web.console.libraries=" + filepath.Join(dir, "console_libraries"),
		},
		AddrFrom: func(line string) (string, bool) {
			return addr, strings.Contains(line, "Server is ready to receive web requests")
		},
	}.Start(t)
	return &prometheusServer{t: t, base: "http://" + p.Addr()}
}

// freeAddr returns a loopback address whose port was free a moment ago,
// for a server that must bind it itself.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// sample is one element of an instant vector from the query API.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query evaluates expr now through /api/v1/query, failing the test if
// Prometheus refuses it.
func (p *prometheusServer) query(expr string) []sample {
	p.t.Helper()
	code, body := get(p.base + "/api/v1/query?query=" + url.QueryEscape(expr))
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string   `json:"resultType"`
			Result     []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || code != http.StatusOK || resp.Status != "success" {
		p.t.Fatalf("query %s: %d %s (%v)", expr, code, body, err)
	}
	if resp.Data.ResultType != "vector" {
		p.t.Fatalf("query %s: result type %q, want vector", expr, resp.Data.ResultType)
	}
	return resp.Data.Result
}

// await queries expr until its result is not empty, and returns it.
func (p *prometheusServer) await(expr string) []sample {
	p.t.Helper()
	var res []sample
	took := await(p.t, promLimit, "Prometheus: "+expr, func() bool {
		res = p.query(expr)
		return len(res) > 0
	})
	p.t.Logf("Prometheus: %s after %v", expr, took.Round(time.Millisecond))
	return res
}
