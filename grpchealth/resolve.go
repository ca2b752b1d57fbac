package grpchealth

import (
	"slices"
	"strings"

	"github.com/probekit/probekit/health"
)

// index is the registry's checks by name, valid until changed is closed.
// Registrations close it (health.Registry.Changed), so a check registered
// after NewServer is served from the next request on.
type index struct {
	changed <-chan struct{}
	byName  map[string]health.CheckInfo
}

// index returns the registry's checks, rebuilt if anything changed since
// the last call. Changed is taken before Checks so that no registration
// can fall between the two unseen.
func (s *Server) index() *index {
	if ix := s.idx.Load(); ix != nil {
		select {
		case <-ix.changed:
		default:
			return ix
		}
	}
	ix := &index{changed: s.reg.Changed(), byName: make(map[string]health.CheckInfo)}
	for _, c := range s.reg.Checks() {
		ix.byName[c.Name] = c
	}
	s.idx.Store(ix)
	return ix
}

// resolve returns what service name answers for, with the group of a check
// target filled in, or false if the name is unknown.
func (s *Server) resolve(name string, ix *index) (Target, bool) {
	if t, ok := s.st.Services[name]; ok {
		if t.check == "" {
			return t, true
		}
		c, ok := ix.byName[t.check]
		return Target{group: c.Group, check: t.check}, ok
	}
	if c, ok := ix.byName[name]; ok && !s.st.HideChecks {
		return Target{group: c.Group, check: name}, true
	}
	return Target{}, false
}

// names returns every service name the server answers now, sorted.
func (s *Server) names(ix *index) []string {
	var out []string
	for name := range s.st.Services {
		if _, ok := s.resolve(name, ix); ok {
			out = append(out, name)
		}
	}
	if !s.st.HideChecks {
		for name := range ix.byName {
			if _, shadowed := s.st.Services[name]; !shadowed {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// groupsOf returns the groups whose reports t's status is read from:
// readiness also fails while liveness or startup does, as over HTTP.
func groupsOf(t Target) []health.Group {
	if t.check == "" && t.group == health.Readiness {
		return health.Groups()
	}
	return []health.Group{t.group}
}

// onRequest returns the checks that run on request which t's status rests
// on: those that only change when something runs them. Startup checks are
// left out once startup has passed (it latches, and they never run again).
func onRequest(t Target, ix *index, startupPassed bool) []health.CheckInfo {
	var out []health.CheckInfo
	if t.check != "" {
		if c, ok := ix.byName[t.check]; ok && c.Interval == 0 && !(c.Group == health.Startup && startupPassed) {
			out = append(out, c)
		}
		return out
	}
	for _, g := range groupsOf(t) {
		if g == health.Startup && startupPassed {
			continue
		}
		for _, c := range ix.byName {
			if c.Group == g && c.Interval == 0 {
				out = append(out, c)
			}
		}
	}
	return out
}

// statusIn returns t's status from reports, the latest report of each
// group t rests on; false if t's check is missing from them (it cannot
// be unregistered, so only a report older than the index lacks it).
func statusIn(t Target, reports map[health.Group]health.Report) (health.Status, bool) {
	rep, ok := reports[t.group]
	if !ok {
		return health.StatusUnknown, false
	}
	if t.check == "" {
		return rep.Status, true
	}
	res, ok := entry(rep, t.check)
	return res.Status, ok
}

// entry returns the entry called name of rep, whose entries are sorted by
// name.
func entry(rep health.Report, name string) (health.CheckResult, bool) {
	i, found := slices.BinarySearchFunc(rep.Checks, name, func(r health.CheckResult, name string) int {
		return strings.Compare(r.Name, name)
	})
	if !found {
		return health.CheckResult{}, false
	}
	return rep.Checks[i], true
}
