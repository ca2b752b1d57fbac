package statuspage

import "github.com/probekit/probekit/internal/redact"

// maxReason is how many bytes of a reason the page keeps and shows.
const maxReason = 160

// reasonOf returns a reason as the page shows it: the registry's redacted
// text of the error (CheckResult.Reason, Event.Reason), which reading
// calls no user code, folded to one line and cut at maxReason bytes.
func reasonOf(reason string) string { return redact.Line(reason, maxReason) }
