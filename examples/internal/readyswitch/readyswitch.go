// Package readyswitch is the /make_ready and /make_not_ready handler of the
// examples that follow the Kubernetes probe tutorial's seed app.
package readyswitch

import (
	"encoding/json"
	"net/http"

	"github.com/probekit/probekit/health"
)

// Handler turns reg's readiness switch on (ready) or off, and answers with
// {"ready": ready, "message": ...}, message being what the change means for
// the caller's probes. It answers POST, the method for a change of state,
// and GET too, because the tutorial has readers open these URLs in a
// browser; other methods get 405.
func Handler(reg *health.Registry, ready bool, message string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed: use POST (or GET)", http.StatusMethodNotAllowed)
			return
		}
		if ready {
			reg.MarkReady()
		} else {
			reg.MarkNotReady("made not ready by /make_not_ready")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"ready": ready, "message": message})
	})
}
