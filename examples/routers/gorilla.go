package routers

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/probekit/probekit/health"
)

// Gorilla mounts the health endpoints on a gorilla/mux router, from
// reg.Routes. A gorilla route without PathPrefix matches its whole path, so
// "/" does not swallow other paths.
func Gorilla(reg *health.Registry) (http.Handler, error) {
	routes, err := reg.Routes()
	if err != nil {
		return nil, err
	}
	r := mux.NewRouter()
	for _, rt := range routes {
		path := rt.Path
		if rt.PerCheck {
			path += "{check}"
		}
		r.Handle(path, rt.Handler)
	}
	r.HandleFunc("/hello", hello).Methods(http.MethodGet)
	return r, nil
}
