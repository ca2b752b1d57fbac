package subject

import "net/http"

// bareBody is the constant the bare handler writes; Verify accepts it as a
// passing report ("status": "pass").
var bareBody = []byte(`{"status":"pass"}` + "\n")

// bareHandler is the yardstick: the handler a service would write if it
// checked nothing, written the way people write it (Header().Set included).
func bareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bareBody)
	})
}
