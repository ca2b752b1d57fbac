// Package statuspage serves a status page of a health registry for the
// people on call: every group and entry with its status, since when, its
// latest run, a timeline of its last hour and its circuit breaker, live,
// and the same history as JSON for scripts. When a pod leaves rotation at
// 3 a.m., it answers "which check, since when, and has it been flapping?".
//
//	page := statuspage.New(reg, statuspage.Options{Authorize: onCall})
//	mux.Handle("/statusz/", http.StripPrefix("/statusz", page))
//
// # What it shows
//
// For each group (readiness first), its status, since when, when a probe
// last asked for it (Report.LastProbed; "never probed" says no kubelet is
// asking), and whether readiness is draining (Report.Draining). For each
// entry (the checks and the registry's own: the switches "alive" and
// "ready", and readiness's "liveness" and "startup"): its status by
// colour, shape and word; since when; its latest run's duration and time;
// a timeline of the last hour (the status, the longest run of each minute,
// the breaker's open spells), drawn on the server as inline SVG with a
// text alternative; how many times its status changed in the hour (four
// or more: "flapping"); for a dependency, its breaker's state, next trial
// and last success; and, to requests allowed details, why it fails, or
// when and why it last failed.
//
// # It runs nothing
//
// The page, its live updates and its JSON read reg.Latest and what the
// page recorded. They run no check, and they are no probe: they leave
// Report.LastProbed alone. A check that runs on request shows its verdict
// from the last probe.
//
// # History, in bounded memory
//
// New adds an observer to the registry (AddObserver) and records, for
// each entry and each group, in memory of a fixed size:
//
//   - its last 100 changes: status changes (with the redacted reason of a
//     change to warn or fail, cut at 160 bytes) and its breaker's openings
//     and closings (not each trial);
//   - its runs of the last hour, summed per minute (60 summaries: runs,
//     failed, warned, longest and mean duration).
//
// Memory does not grow with uptime, only with the number of entries: under
// 7 KiB an entry, under 15 KiB when each of its 50 changes to fail has a
// reason of its own of the longest kind (measured by TestMemoryPerEntry;
// docs/statuspage.md has the figures). There is no database: a restarted process starts
// an empty history. Create the page with the registry, before checks are
// registered, to record their first results; entries that changed before
// the page was created are shown from its creation on.
//
// # Live, with or without JavaScript
//
// The page's script (static/page.js, served by the page) opens a stream of
// Server-Sent Events ("events"), on which the server sends the page's live
// part rendered anew when the registry announces a change (reg.Changed)
// or the page records one: at most one update a second per stream, changes
// in between coalesced, and one at least every 15 s when the times shown
// have moved. A slow client gets the state as it is when it can take it;
// a write that takes more than 10 s ends its stream; at most 32 streams
// are served at once (503 beyond). Streams end when the client leaves,
// when readiness drains or the registry closes; then "events" answers
// 204, so browsers stop reconnecting and http.Server.Shutdown is not held
// up. Without JavaScript the page is complete and reloads itself every
// 10 s.
//
// # Safe to mount
//
// Nothing is served unless Options.Authorize allows the request: refused
// requests get 403 and nil Authorize refuses all. Reasons are shown only
// at AccessDetails, redacted. Every URL in the page is relative, so it
// works under any path prefix and behind a reverse proxy. Every response
// has Cache-Control: no-store, X-Content-Type-Options: nosniff and a
// Content-Security-Policy that allows the page's own stylesheet, script
// and stream and nothing else (no inline script or style, no other
// origin, no framing). Names and reasons are escaped by html/template.
// With 1,000 checks, each failing with a reason and a full history, the
// page is under 3 MiB and history.json under 25 MiB (TestResponseSize).
// The page is a handler of its own: health's Mount never serves it.
//
// # JSON
//
// history.json holds title, generated, recordingSince, windowSeconds
// (3600), details, draining and groups; each group has group, status,
// since, lastProbed, changesInWindow, flapping, changes and entries; each
// entry has name, kind ("check", "dependency", "switch" or "group"),
// status, pending, since, time and durationSeconds of its latest verdict,
// reason (with details), breaker (state, lastSuccess, nextTrial),
// changesInWindow, flapping, changes (time, from, to and, with details,
// reason; or time and breaker: "open" or "closed") and runs (minute, runs,
// failed, warned, maxSeconds, meanSeconds). Times are RFC 3339 in UTC;
// empty ones are left out.
package statuspage
