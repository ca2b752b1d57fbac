package statuspage_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/statuspage"
)

// The page, mounted at /statusz/ beside the probes, for requests from the
// pod itself (kubectl port-forward arrives on loopback) and no one else.
func Example() {
	onCall := func(r *http.Request) statuspage.Access {
		if host, _, _ := net.SplitHostPort(r.RemoteAddr); host == "127.0.0.1" || host == "::1" {
			return statuspage.AccessDetails
		}
		return statuspage.AccessNone
	}
	mux := http.NewServeMux()

	reg := health.New() // then the page, then the checks: it records from the start
	page := statuspage.New(reg, statuspage.Options{Authorize: onCall})
	mux.Handle("/statusz/", http.StripPrefix("/statusz", page))

	defer reg.Close()
	if err := reg.Mount(mux); err != nil {
		panic(err)
	}

	for _, from := range []string{"10.1.2.3:41000", "127.0.0.1:41000"} {
		req := httptest.NewRequest(http.MethodGet, "/statusz/", nil)
		req.RemoteAddr = from
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(from, rec.Code)
	}
	// Output:
	// 10.1.2.3:41000 403
	// 127.0.0.1:41000 200
}
