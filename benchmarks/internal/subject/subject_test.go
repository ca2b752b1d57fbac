package subject_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/benchmarks/internal/subject"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, s subject.Spec) *subject.Subject {
	t.Helper()
	sub, err := subject.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub
}

// Every subject the benchmarks time answers 200 with its library's passing
// report, and runs its checks per request exactly when it claims to.
func TestEverySubjectAnswersAsAHealthyService(t *testing.T) {
	for _, w := range []struct {
		n    int
		kind subject.Kind
	}{{1, subject.Instant}, {10, subject.Instant}, {10, subject.Sleep1ms}} {
		for _, s := range subject.Specs(w.n, w.kind) {
			t.Run(s.Name(), func(t *testing.T) {
				t.Parallel()
				sub := start(t, s)
				if err := sub.Verify(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestSpecsCoverEveryLibraryInBothModes(t *testing.T) {
	var names []string
	for _, s := range subject.Specs(10, subject.Instant) {
		names = append(names, s.Name())
	}
	want := []string{
		"checks=10/kind=instant/mode=on-request/lib=bare",
		"checks=10/kind=instant/mode=on-request/lib=probekit",
		"checks=10/kind=instant/mode=on-request/lib=alexliesenfeld",
		"checks=10/kind=instant/mode=on-request/lib=hellofresh",
		"checks=10/kind=instant/mode=background/lib=bare",
		"checks=10/kind=instant/mode=background/lib=probekit",
		"checks=10/kind=instant/mode=background/lib=alexliesenfeld",
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Specs:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
}

func TestStartRefusesWhatItCannotBuild(t *testing.T) {
	for _, tc := range []struct {
		spec subject.Spec
		want string
	}{
		{subject.Spec{Lib: subject.Hellofresh, Mode: subject.Background, Kind: subject.Instant, Checks: 1}, "hellofresh has no background mode"},
		{subject.Spec{Lib: subject.Probekit, Mode: subject.OnRequest, Kind: subject.Instant, Checks: 0}, "checks must be in [1, 100], got 0"},
		{subject.Spec{Lib: "gin", Mode: "lazy", Kind: "slow", Checks: 1}, `unknown lib "gin"; unknown mode "lazy"; unknown kind "slow"`},
	} {
		sub, err := subject.Start(context.Background(), tc.spec)
		if err == nil {
			sub.Close()
			t.Fatalf("Start(%+v) succeeded", tc.spec)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%+v): %v, want it to say %q", tc.spec, err, tc.want)
		}
	}
}

// A subject whose handler fails is refused rather than timed.
func TestVerifyRefusesAFailingHandler(t *testing.T) {
	sub := start(t, subject.Spec{Lib: subject.Probekit, Mode: subject.OnRequest, Kind: subject.Instant, Checks: 2})
	sub.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"status":"fail"}`, http.StatusServiceUnavailable)
	})
	err := sub.Verify()
	if err == nil || !strings.Contains(err.Error(), "status 503, want 200") {
		t.Fatalf("Verify: %v", err)
	}
}

// A subject labelled background that runs its checks per request (or the
// other way round) is refused: the label would be a lie in the results.
func TestVerifyRefusesAMislabelledMode(t *testing.T) {
	onRequest := start(t, subject.Spec{Lib: subject.Alexliesenfeld, Mode: subject.OnRequest, Kind: subject.Instant, Checks: 3})
	onRequest.Mode = subject.Background
	if err := onRequest.Verify(); err == nil || !strings.Contains(err.Error(), "not served from background results") {
		t.Fatalf("on-request subject labelled background: %v", err)
	}
	background := start(t, subject.Spec{Lib: subject.Probekit, Mode: subject.Background, Kind: subject.Instant, Checks: 3})
	background.Mode = subject.OnRequest
	if err := background.Verify(); err == nil || !strings.Contains(err.Error(), "not on-request") {
		t.Fatalf("background subject labelled on-request: %v", err)
	}
}

func TestCheckResponse(t *testing.T) {
	two := func(lib subject.Lib) subject.Spec {
		return subject.Spec{Lib: lib, Mode: subject.OnRequest, Kind: subject.Instant, Checks: 2}
	}
	for _, tc := range []struct {
		spec subject.Spec
		body string
		want string // "" for no error
	}{
		{two(subject.Bare), `{"status":"pass"}`, ""},
		{two(subject.Probekit), `{"status":"pass","checks":{"check-00":[{}],"check-01":[{}]}}`, ""},
		{two(subject.Probekit), `{"status":"pass","checks":{"check-00":[{}]}}`, `does not list check-01`},
		{two(subject.Probekit), `{"status":"warn","checks":{}}`, `"status" is "warn", want "pass"`},
		{two(subject.Alexliesenfeld), `{"status":"up","details":{"check-00":{},"check-01":{}}}`, ""},
		{two(subject.Alexliesenfeld), `{"status":"up"}`, `"details" is not an object`},
		{two(subject.Hellofresh), `{"status":"OK","component":{}}`, ""},
		{two(subject.Hellofresh), `{"status":"Partially Available"}`, `want "OK"`},
		{two(subject.Bare), `ok`, "not a JSON object"},
		{two(subject.Bare), ``, "not a JSON object"},
	} {
		err := tc.spec.CheckResponse(http.StatusOK, []byte(tc.body))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %s: %v", tc.spec.Lib, tc.body, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %s: %v, want it to say %s", tc.spec.Lib, tc.body, err, tc.want)
		}
	}
}
