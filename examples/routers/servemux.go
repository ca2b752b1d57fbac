package routers

import (
	"net/http"

	"github.com/probekit/probekit/health"
)

// ServeMux mounts the health endpoints on a Go 1.22 http.ServeMux with
// reg.Mount, whose "/{$}" pattern matches "/" alone, so the mux's other
// routes and its 404 for unknown paths are untouched.
func ServeMux(reg *health.Registry) (http.Handler, error) {
	mux := http.NewServeMux()
	if err := reg.Mount(mux); err != nil {
		return nil, err
	}
	mux.HandleFunc("GET /hello", hello)
	return mux, nil
}
