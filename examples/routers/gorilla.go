package routers

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/probekit/probekit/health"
)

// Gorilla mounts the health endpoints on a gorilla/mux router. A gorilla
// route without PathPrefix matches its whole path, so "/" does not swallow
// other paths. gorilla keeps path variables in mux.Vars, not in the
// request's path values, so each handler is wrapped to copy "check" across.
func Gorilla(reg *health.Registry) http.Handler {
	r := mux.NewRouter()
	for _, rt := range routes {
		r.Handle(rt.path, withPathValues(reg.Handler(rt.group)))
	}
	r.HandleFunc("/hello", hello).Methods(http.MethodGet)
	return r
}

// withPathValues copies gorilla's route variables into r.PathValue.
func withPathValues(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range mux.Vars(r) {
			r.SetPathValue(k, v)
		}
		h.ServeHTTP(w, r)
	})
}
