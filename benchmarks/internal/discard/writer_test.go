package discard_test

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/benchmarks/internal/discard"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	contentType = []string{"application/json"}
	failBody    = []byte(`{"status":"fail"}`)
)

func serve(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = contentType
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write(failBody)
}

func TestWriterRecordsFirstCodeAndCountsBytes(t *testing.T) {
	w := discard.New()
	serve(w, nil)
	w.WriteHeader(http.StatusOK) // ignored, as net/http ignores a superfluous WriteHeader
	if w.Code() != http.StatusServiceUnavailable || w.Len() != len(failBody) {
		t.Fatalf("code %d, %d bytes", w.Code(), w.Len())
	}
	if got := w.Header().Get("Content-Type"); got != "application/json" {
		t.Fatalf("Content-Type %q", got)
	}
	w.Reset()
	if w.Code() != 0 || w.Len() != 0 || len(w.Header()) != 0 {
		t.Fatalf("after Reset: code %d, %d bytes, header %v", w.Code(), w.Len(), w.Header())
	}
}

func TestWriteWithoutWriteHeaderImplies200(t *testing.T) {
	w := discard.New()
	_, _ = w.Write([]byte("ok"))
	if w.Code() != http.StatusOK {
		t.Fatalf("code %d, want 200", w.Code())
	}
}

func TestReusedWriterAllocatesNothing(t *testing.T) {
	w := discard.New()
	serve(w, nil) // the header map grows its storage once
	allocs := testing.AllocsPerRun(1000, func() {
		w.Reset()
		serve(w, nil)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per response, want 0", allocs)
	}
}
