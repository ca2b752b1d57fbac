package adversarial_test

import "testing"

// The engine's known-broken issues, each described once, with the tests
// that show it. A test marked here is skipped unless
// PROBEKIT_ADVERSARIAL_ALL=1: delete its mark (the knownBroken call at the
// top of a test, or its line in knownRows) once the engine passes it, and
// the constant once nothing names it.
const (
	issueDropNewest = "adv-02: a hook that falls behind loses the newest events (its queue refuses items once full), so once it " +
		"catches up its last event for an entry or a group can contradict the report for good; keep the latest (drop the oldest, or coalesce per entry)"
	issueObserveLate = "adv-09: an observed value is marshalled after Observe returned (when the run ends): a check that " +
		"goes on updating the map it observed races with it, a fatal concurrent map access without -race; marshal in Observe, or document that the value must not change"
)

// Fixed since the suite was written, and kept as regression tests: adv-01
// (a blocked hook's queue bounded by count, not bytes), adv-03 (on-request
// checks passing after the WithContext context ended), adv-04 (bodies over
// 10 KiB with long exclude notes), adv-05 to adv-07 (hostile WithContext
// contexts hanging New or crashing the process), adv-08 (nil contexts).

// knownRows marks rows of table-driven tests, by full subtest name.
var knownRows = map[string]string{
	"TestHostileObservedValue/map_mutated_after_Observe_returned/on_request": issueObserveLate,
	"TestHostileObservedValue/map_mutated_after_Observe_returned/background": issueObserveLate,
}

// knownBrokenRow is knownBroken for the row of a table that t runs.
func knownBrokenRow(t *testing.T) {
	t.Helper()
	if issue := knownRows[t.Name()]; issue != "" {
		knownBroken(t, issue)
	}
}
