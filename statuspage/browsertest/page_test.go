package browsertest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/probekit/probekit/statuspage"
)

// liveWithin is how soon a change must show on a page that is not
// reloaded: the page's one-second coalescing, plus a loaded machine.
const liveWithin = 5 * time.Second

// service is a registry with checks in every group, its probes, and its
// status page at /statusz/, served on loopback.
type service struct {
	reg       *health.Registry
	cache, db *healthtest.Switch
	srv       *httptest.Server
	page      string // the page's URL
}

func newService(t *testing.T, access statuspage.Access) *service {
	t.Helper()
	s := &service{reg: health.New(), cache: new(healthtest.Switch), db: new(healthtest.Switch)}
	page := statuspage.New(s.reg, statuspage.Options{Title: "api-7d9f4c", Authorize: func(*http.Request) statuspage.Access { return access }})
	fast := health.CheckOptions{Every: 50 * time.Millisecond}
	for _, c := range []struct {
		g    health.Group
		name string
		c    health.Checker
		o    health.CheckOptions
	}{
		{health.Liveness, "goroutines", healthtest.Fixed(nil), fast},
		{health.Readiness, "cache", s.cache, fast},
		{health.Readiness, "db", health.DependencyFunc(s.db.Check), health.CheckOptions{Every: 50 * time.Millisecond, Breaker: health.BreakerSettings{Failures: 1, Open: time.Minute}}},
		{health.Startup, "migrations", healthtest.Fixed(nil), fast},
	} {
		if err := s.reg.Register(c.g, c.name, c.c, c.o); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	if err := s.reg.Mount(mux); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/statusz/", http.StripPrefix("/statusz", page))
	s.srv = httptest.NewServer(mux)
	s.page = s.srv.URL + "/statusz/"
	t.Cleanup(func() {
		// The registry first: it ends the page's event streams, which
		// the server's Close would otherwise wait for.
		if err := s.reg.Close(); err != nil {
			t.Error(err)
		}
		s.srv.Close()
	})
	healthtest.WaitStatus(t, s.reg, health.Readiness, health.StatusPass)
	return s
}

// entries returns the names of the entries of every group, as the
// registry reports them.
func (s *service) entries() []string {
	var names []string
	for _, g := range []health.Group{health.Liveness, health.Readiness, health.Startup} {
		for _, c := range s.reg.Latest(g).Checks {
			names = append(names, g.String()+"/"+c.Name)
		}
	}
	sort.Strings(names)
	return names
}

// shownEntries is a JavaScript expression: group/name of every row.
const shownEntries = `Array.from(document.querySelectorAll("section.group")).flatMap(function (s) {
  return Array.from(s.querySelectorAll("tbody .name")).map(function (n) { return s.id + "/" + n.textContent; });
}).sort()`

// assertClean fails the test for anything the page caused in the browser.
func assertClean(t *testing.T, b *browser) {
	t.Helper()
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the page caused %d problems in Chromium:\n%s", len(p), strings.Join(p, "\n"))
	}
}

// TestLiveInChromium: the page lists every entry of every group; a
// readiness switch turned off, a check turning fail and a breaker opening
// show without a reload; nothing goes to the console and the page's CSP
// is never violated.
func TestLiveInChromium(t *testing.T) {
	s := newService(t, statuspage.AccessDetails)
	b := newBrowser(t, 1280, 1000)
	b.Open(s.page)
	if got, want := strings.Join(Eval[[]string](b, shownEntries), " "), strings.Join(s.entries(), " "); got != want {
		t.Fatalf("the page shows %s, the registry has %s", got, want)
	}
	Eval[bool](b, "window.__loadedOnce = true")
	b.WaitUntil("the stream is live", `document.getElementById("live-state").dataset.state === "live"`, liveWithin)

	s.reg.MarkNotReady("maintenance window")
	b.WaitUntil("the readiness switch shows off", rowStatus("ready")+` === "fail" && document.title.indexOf("readiness fail") === 0`, liveWithin)
	if got := Eval[string](b, rowCell("ready", 6)); !strings.Contains(got, "maintenance window") {
		t.Errorf("the ready row's reason = %q, want the switch's reason", got)
	}
	s.cache.Set(errors.New("cache <b>evicted</b> everything"))
	b.WaitUntil("the cache check shows fail", rowStatus("cache")+` === "fail"`, liveWithin)
	if got := Eval[string](b, rowCell("cache", 6)); !strings.Contains(got, "cache <b>evicted</b> everything") {
		t.Errorf("the cache row's reason = %q, want the error as text", got)
	}
	if Eval[bool](b, `document.querySelector("td.reason b") !== null`) {
		t.Error("markup in a reason became an element of the page")
	}
	s.db.Set(errors.New("connection refused"))
	b.WaitUntil("the db breaker shows open", rowCell("db", 5)+`.indexOf("open") >= 0 && `+rowCell("db", 5)+`.indexOf("next trial") >= 0`, liveWithin)
	if !Eval[bool](b, "window.__loadedOnce === true") {
		t.Error("the page was reloaded: the changes must arrive live")
	}
	b.Screenshot("live.png", "")
	assertClean(t, b)
}

// TestWithoutJavaScript: with scripts disabled the page is complete, says
// that it reloads, and does reload itself.
func TestWithoutJavaScript(t *testing.T) {
	s := newService(t, statuspage.AccessStatus)
	b := newBrowser(t, 1280, 1000)
	b.call("disable scripts", func() error {
		_, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	b.Open(s.page)
	if got, want := strings.Join(Eval[[]string](b, shownEntries), " "), strings.Join(s.entries(), " "); got != want {
		t.Fatalf("without JavaScript the page shows %s, the registry has %s", got, want)
	}
	if got := Eval[string](b, `document.getElementById("live-state").textContent`); !strings.Contains(got, "reloaded every 10 s") {
		t.Errorf("the page says %q, want that it reloads every 10 s", got)
	}
	Eval[bool](b, "window.__loadedOnce = true") // DevTools evaluates with page scripts disabled
	s.reg.MarkNotReady("maintenance")
	b.WaitUntil("a reload shows the change", rowStatus("ready")+` === "fail"`, 20*time.Second)
	if Eval[bool](b, "window.__loadedOnce === true") {
		t.Error("the change arrived without a reload, with scripts disabled")
	}
	assertClean(t, b)
}

// TestPhoneAndDarkScheme: on a phone's width the page does not scroll
// sideways (tables scroll inside their box), and it follows the dark
// colour scheme.
func TestPhoneAndDarkScheme(t *testing.T) {
	s := newService(t, statuspage.AccessDetails)
	s.cache.Set(errors.New("evicted"))
	healthtest.WaitStatus(t, s.reg, health.Readiness, health.StatusFail)
	b := newBrowser(t, 390, 844)
	b.call("emulate a phone in the dark", func() error {
		if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile)); err != nil {
			return err
		}
		_, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		})
		return err
	})
	b.Open(s.page)
	if w := Eval[[]float64](b, "[document.documentElement.scrollWidth, window.innerWidth]"); w[0] > w[1] {
		t.Errorf("the page is %v px wide in a %v px window: it scrolls sideways", w[0], w[1])
	}
	if bg := Eval[string](b, "getComputedStyle(document.body).backgroundColor"); bg != "rgb(13, 17, 23)" {
		t.Errorf("body background in the dark scheme = %s, want the dark --bg", bg)
	}
	b.Screenshot("phone-dark.png", "")
	assertClean(t, b)
}

// TestProblemsAreSeen: the checks above would pass on a browser that
// reported nothing. A page with an inline script under the same policy
// must be reported.
func TestProblemsAreSeen(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>x</title><div id="state"></div><script>document.title = "ran"</script>`))
	}))
	defer srv.Close()
	b := newBrowser(t, 800, 600)
	b.Open(srv.URL)
	if err := try[bool](b, chromedp.Poll[bool]("window.__csp.length > 0", chromedp.WithPollingTimeout(liveWithin)), nil); err != nil {
		t.Fatalf("the CSP probe saw no violation: %v", err)
	}
	p := strings.Join(b.Problems(), "\n")
	if !strings.Contains(p, "CSP violation: script-src") {
		t.Errorf("problems = %q, want the inline script's CSP violation", p)
	}
}
