package browsertest

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// get sends GET url and fails the test unless it answers 200.
func get(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, res.StatusCode)
	}
}

// TestSeedappInChromium runs examples/seedapp and watches its page at
// /statusz/ (Chromium connects from 127.0.0.1, which the app allows):
// the readiness switch's changes arrive live, and on SIGTERM the page
// shows the drain and its stream ends, so the app exits without waiting
// for its shutdown timeout.
func TestSeedappInChromium(t *testing.T) {
	b := newBrowser(t, 1280, 900)
	bin := build(t, "github.com/probekit/probekit/examples/seedapp")
	p := start(t, bin, regexp.MustCompile(`seedapp listening on (\S+)`), "-addr", "127.0.0.1:0", "-drain-delay", "2s")
	base := "http://" + p.addr
	b.Open(base + "/statusz/")
	for _, name := range []string{"alive", "goroutines", "liveness", "ready", "startup"} {
		if Eval[string](b, rowStatus(name)) == "" {
			t.Errorf("the page has no row for %s", name)
		}
	}
	b.WaitUntil("ready fails, and says why", rowStatus("ready")+` === "fail" && `+rowCell("ready", 6)+`.indexOf("waiting for /make_ready") >= 0`, liveWithin)
	b.WaitUntil("the stream is live", `document.getElementById("live-state").dataset.state === "live"`, liveWithin)
	get(t, base+"/make_ready")
	b.WaitUntil("ready passes", rowStatus("ready")+` === "pass"`, liveWithin)
	get(t, base+"/make_not_ready")
	b.WaitUntil("ready fails again", rowStatus("ready")+` === "fail"`, liveWithin)
	b.Screenshot("seedapp.png", "")
	assertClean(t, b)

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	b.WaitUntil("the page shows the drain", `document.body.innerText.indexOf("Draining:") >= 0`, liveWithin)
	if err := p.wait(t, 9*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the app took %v to exit with a 2 s drain: an open page held up its shutdown (timeout 10 s)", d)
	}
}

// TestDependenciesOutageInChromium runs examples/dependencies against a
// private Redis, kills Redis and brings it back, and watches the page show
// the check fail with its breaker open (and its next trial), then pass
// with the breaker closed, without a reload. With -docs it writes the
// screenshot of the outage to docs/statuspage.png.
func TestDependenciesOutageInChromium(t *testing.T) {
	b := newBrowser(t, 1280, 900)
	redis := startRedis(t)
	bin := build(t, "github.com/probekit/probekit/examples/dependencies")
	p := start(t, bin, regexp.MustCompile(`"msg":"listening".*"addr":"([^"]+)"`),
		"-addr", "127.0.0.1:0", "-redis", redis.addr, "-interval", "100ms", "-timeout", "200ms", "-breaker-open", "5s")
	b.Open("http://" + p.addr + "/statusz/")
	b.WaitUntil("redis passes, breaker closed", rowStatus("redis")+` === "pass" && `+rowCell("redis", 5)+`.indexOf("closed") >= 0`, liveWithin)
	Eval[bool](b, "window.__loadedOnce = true")

	redis.kill()
	b.WaitUntil("redis fails, breaker open", rowStatus("redis")+` === "fail" && `+rowCell("redis", 5)+`.indexOf("open") >= 0 && `+rowCell("redis", 5)+`.indexOf("next trial") >= 0`, liveWithin)
	if reason := Eval[string](b, rowCell("redis", 6)); !strings.Contains(reason, "refused") && !strings.Contains(reason, "breaker") {
		t.Errorf("the reason shown = %q", reason)
	}
	shot := ""
	if *docs {
		shot = filepath.Join("..", "..", "docs", "statuspage.png")
	}
	b.Screenshot("dependencies-outage.png", shot)

	redis.start()
	b.WaitUntil("redis passes again, breaker closed", rowStatus("redis")+` === "pass" && `+rowCell("redis", 5)+`.indexOf("closed") >= 0`, 15*time.Second)
	if !Eval[bool](b, "window.__loadedOnce === true") {
		t.Error("the page was reloaded: the outage must arrive live")
	}
	if got := Eval[string](b, rowCell("redis", 4)); !strings.HasPrefix(strings.TrimSpace(got), "2") {
		t.Errorf("the redis row counts %q changes in the hour, want 2 (fail, pass)", got)
	}
	assertClean(t, b)
}
