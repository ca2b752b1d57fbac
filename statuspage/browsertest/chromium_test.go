package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/probekit/probekit/internal/prereq"
)

// browserTimeout bounds everything one test does with its browser.
const browserTimeout = 2 * time.Minute

// cspProbe records, in every document the tab loads, the Content Security
// Policy violations the page itself sees. DevTools injects it, so the
// page's own policy does not apply to it.
const cspProbe = `window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});`

// browser is a headless Chromium with one tab, started for one test and
// killed when it ends. It records what the page should never cause:
// console errors, uncaught exceptions, browser log errors (failed loads,
// CSP violations) and DevTools issues.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab's

	mu       sync.Mutex
	problems []string
}

// newBrowser starts Chromium headless with a width×height window, or
// skips t if it is not installed. The machine has no network for it: it
// reaches only the servers of the test, on loopback.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	path := prereq.LookPath(t, "chromium", "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	tctx, tcancel := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: tctx}
	t.Cleanup(func() {
		tcancel()
		acancel() // kills Chromium and waits for it
		cancel()
	})
	if err := chromedp.Listen(tctx, b.record); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	b.call("Log.enable", func() error { _, err := chromedp.Call(tctx, log.Enable, cdp.Empty{}); return err })
	b.call("Audits.enable", func() error { _, err := chromedp.Call(tctx, audits.Enable, cdp.Empty{}); return err })
	b.call("the CSP probe", func() error {
		_, err := chromedp.Call(tctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe})
		return err
	})
	return b
}

func (b *browser) call(what string, f func() error) {
	b.t.Helper()
	if err := f(); err != nil {
		b.t.Fatalf("chromium: %s: %v", what, err)
	}
}

// record runs in the tab's event loop: it only files what it sees.
func (b *browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			b.problems = append(b.problems, fmt.Sprintf("log %s %s: %s %s", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
		}
	case *audits.EventIssueAdded:
		b.problems = append(b.problems, "issue: "+string(ev.Issue.Code))
	}
}

// Problems returns what the page caused that it should not have: console
// errors and warnings, exceptions, browser log errors and warnings,
// DevTools issues, and the CSP violations the page itself saw.
func (b *browser) Problems() []string {
	b.t.Helper()
	var csp []string
	if err := b.try(chromedp.Evaluate[[]string]("window.__csp || []"), &csp); err != nil {
		b.t.Fatalf("reading the CSP probe: %v", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append([]string(nil), b.problems...)
	for _, v := range csp {
		out = append(out, "CSP violation: "+v)
	}
	return out
}

// try runs a and stores its result in out (nil: discard).
func try[T any](b *browser, a chromedp.Action[T], out *T) error {
	v, err := chromedp.Run(b.ctx, a)
	if err == nil && out != nil {
		*out = v
	}
	return err
}

func (b *browser) try(a chromedp.Action[[]string], out *[]string) error { return try(b, a, out) }

// Open navigates to url and waits for the page's live part.
func (b *browser) Open(url string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url), chromedp.WaitVisible(`#state`)); err != nil {
		b.t.Fatalf("chromium: open %s: %v", url, err)
	}
}

// Eval evaluates expr in the page and returns its value.
func Eval[T any](b *browser, expr string) T {
	b.t.Helper()
	var v T
	if err := try(b, chromedp.Evaluate[T](expr), &v); err != nil {
		b.t.Fatalf("chromium: evaluate %s: %v", expr, err)
	}
	return v
}

// WaitUntil evaluates the JavaScript expression cond in the page every
// 50 ms until it is true, failing the test after d. It survives reloads:
// an evaluation that fails while a document is replaced counts as false.
func (b *browser) WaitUntil(what, cond string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var ok bool
		if err := try(b, chromedp.Evaluate[bool](cond), &ok); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var text string
			_ = try(b, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`), &text)
			b.t.Fatalf("chromium: %s: not within %v; the page says:\n%s", what, d, text)
		}
		select {
		case <-tick.C:
		case <-b.ctx.Done():
			b.t.Fatalf("chromium: %s: %v", what, b.ctx.Err())
		}
	}
}

// Screenshot saves the page as PNG at path, or in the test's artifact
// directory under name if path is empty, and returns where.
func (b *browser) Screenshot(name, path string) string {
	b.t.Helper()
	var png []byte
	if err := try(b, chromedp.FullScreenshot(100), &png); err != nil {
		b.t.Fatalf("chromium: screenshot: %v", err)
	}
	if path == "" {
		path = filepath.Join(b.t.ArtifactDir(), name)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s (%d bytes)", path, len(png))
	return path
}

// rowStatus is a JavaScript expression: the status word shown for entry
// name, or "" if the page has no such row.
func rowStatus(name string) string {
	return fmt.Sprintf(`(function () {
  var rows = document.querySelectorAll("tbody tr");
  for (var i = 0; i < rows.length; i++) {
    var n = rows[i].querySelector(".name");
    if (n && n.textContent === %q) {
      return rows[i].querySelector("td .badge").textContent.trim().replace(/^\S+\s+/, "");
    }
  }
  return "";
})()`, name)
}

// rowCell is a JavaScript expression: the text of the cell of column
// (0: Status ... 6: Reason) in entry name's row.
func rowCell(name string, column int) string {
	return fmt.Sprintf(`(function () {
  var rows = document.querySelectorAll("tbody tr");
  for (var i = 0; i < rows.length; i++) {
    var n = rows[i].querySelector(".name");
    if (n && n.textContent === %q) {
      return rows[i].querySelectorAll("td")[%d].textContent;
    }
  }
  return "";
})()`, name, column)
}
