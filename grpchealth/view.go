package grpchealth

import (
	"slices"
	"strings"
	"time"

	"github.com/probekit/probekit/health"
)

// view is what the server answers from between two changes of the
// registry: the status of every name it answers. It is valid until changed
// is closed: health.Registry.Changed closes at every change of a status or
// of a breaker's state, and so at every registration (a new check's status
// goes from nothing to pending). Every status the registry reports changes
// only with such a change, so a valid view's statuses are the registry's
// latest, exactly.
type view struct {
	changed <-chan struct{}
	// closed is set once the registry is closed: its Changed channel is
	// closed for good, so the view is final (and every name answers
	// NOT_SERVING).
	closed bool
	ix     *index
	status []health.Status // of each of ix.names
	runs   []runState      // of each of ix.onRequest
}

// runState is the state of a check that runs on request, as of a view.
type runState struct {
	at      time.Time // its latest verdict; zero if it never ran
	latched bool      // a startup check that passed once: never run again
}

// index is the names the server answers and what each rests on, valid
// while the set of registered checks stays the same: while the registry's
// reports have as many entries, since it never removes a check.
type index struct {
	entries   int // in the reports of the three groups
	names     []string
	services  []service      // of each of names
	byName    map[string]int // position in names
	onRequest []onRequest    // the checks that run on request
}

// service is what one name answers.
type service struct {
	group health.Group
	check string // "" for the whole group
	pos   int    // a check's position in its group's report
	// due lists (as positions in index.onRequest) the checks that run on
	// request which the status rests on: those change only when something
	// runs them, so Check runs them (health.Registry.Check) as the HTTP
	// handler would, but for startup checks that latched.
	due []int
}

// onRequest is a check that runs on request.
type onRequest struct {
	group health.Group
	name  string
	pos   int       // its position in its group's report
	at    time.Time // its latest verdict as of the view that listed it (view.due)
}

// lookup returns the service called name and its position, or nil.
func (v *view) lookup(name string) (*service, int) {
	i, ok := v.ix.byName[name]
	if !ok {
		return nil, -1
	}
	return &v.ix.services[i], i
}

// due returns the checks of svc that Check must run.
func (v *view) due(svc *service) []onRequest {
	var out []onRequest
	for _, i := range svc.due {
		if !v.runs[i].latched {
			c := v.ix.onRequest[i]
			c.at = v.runs[i].at
			out = append(out, c)
		}
	}
	return out
}

// mustRun reports whether svc rests on checks Check must run.
func (v *view) mustRun(svc *service) bool {
	for _, i := range svc.due {
		if !v.runs[i].latched {
			return true
		}
	}
	return false
}

// names is the argument of health.Registry.Check that evaluates svc: none
// for a group, its name for a check.
func (svc *service) names() []string {
	if svc.check == "" {
		return nil
	}
	return []string{svc.check}
}

// view returns the current view, rebuilt if the registry changed since it
// was built. Concurrent callers that find it stale (watchers woken by one
// change) wait for one rebuild.
func (s *Server) view() *view {
	if v := s.cur.Load(); v != nil && v.valid() {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.cur.Load()
	if v != nil && v.valid() {
		return v
	}
	var ix *index
	if v != nil {
		ix = v.ix
	}
	v = s.build(ix)
	s.cur.Store(v)
	return v
}

func (v *view) valid() bool { return v.closed || !isClosed(v.changed) }

var groups = [...]health.Group{health.Liveness, health.Readiness, health.Startup}

// build reads the registry's latest report of each group, and if checks
// were registered since ix was built, its checks too. Changed is taken
// first, so that no change can fall between the reads unseen.
func (s *Server) build(ix *index) *view {
	s.builds.Add(1)
	v := &view{changed: s.reg.Changed(), closed: isClosed(s.reg.Done())}
	var reports [len(groups) + 1]health.Report
	entries := 0
	for _, g := range groups {
		reports[g] = s.reg.Latest(g)
		entries += len(reports[g].Checks)
	}
	if ix == nil || ix.entries != entries {
		ix = s.index(&reports, entries)
	}
	v.ix = ix
	v.status = make([]health.Status, len(ix.names))
	for i := range ix.services {
		svc := &ix.services[i]
		rep := &reports[svc.group]
		if svc.check == "" {
			v.status[i] = rep.Status
		} else {
			v.status[i] = rep.Checks[svc.pos].Status
		}
	}
	if len(ix.onRequest) > 0 {
		// A startup check that has passed once is never run again, and
		// none is once startup has passed (it latches).
		startupPassed := reports[health.Startup].Status == health.StatusPass
		v.runs = make([]runState, len(ix.onRequest))
		for i, c := range ix.onRequest {
			res := &reports[c.group].Checks[c.pos]
			v.runs[i] = runState{at: res.Time, latched: c.group == health.Startup &&
				(startupPassed || !res.Time.IsZero() && res.Status != health.StatusFail)}
		}
	}
	return v
}

// index builds the index of the checks in reports, which hold entries
// entries. Checks registered since wait for the next view.
func (s *Server) index(reports *[len(groups) + 1]health.Report, entries int) *index {
	ix := &index{entries: entries, byName: make(map[string]int)}
	every := make(map[string]bool) // background checks
	for _, c := range s.reg.Contract().Checks {
		every[c.Name] = c.Every != 0
	}
	type found struct {
		group health.Group
		pos   int
		due   []int // itself, if it runs on request
	}
	byName := make(map[string]found, len(every))
	var due [len(groups) + 1][]int // of each group's own checks
	for _, g := range groups {
		for pos, res := range reports[g].Checks {
			background, registered := every[res.Name]
			if !registered {
				continue // one of the registry's own entries
			}
			f := found{group: g, pos: pos}
			if !background {
				f.due = []int{len(ix.onRequest)}
				due[g] = append(due[g], len(ix.onRequest))
				ix.onRequest = append(ix.onRequest, onRequest{group: g, name: res.Name, pos: pos})
			}
			byName[res.Name] = f
		}
	}
	// Readiness also fails while liveness or startup does, so a probe of
	// it runs their checks too.
	due[health.Readiness] = slices.Concat(due[health.Liveness], due[health.Readiness], due[health.Startup])

	add := func(name string, t Target) {
		svc := service{group: t.group, check: t.check}
		if t.check == "" {
			svc.due = due[t.group]
		} else {
			f, ok := byName[t.check]
			if !ok {
				return // not registered (yet)
			}
			svc.group, svc.pos, svc.due = f.group, f.pos, f.due
		}
		ix.byName[name] = -1
		ix.names = append(ix.names, name)
		ix.services = append(ix.services, svc)
	}
	for name, t := range s.st.Services {
		add(name, t)
	}
	if !s.st.HideChecks {
		for name := range byName {
			if _, shadowed := s.st.Services[name]; !shadowed {
				add(name, CheckTarget(name))
			}
		}
	}
	// Sorted by name, so that List and Contract need not sort.
	order := make([]int, len(ix.names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ix.names[a], ix.names[b]) })
	names, services := make([]string, len(order)), make([]service, len(order))
	for i, j := range order {
		names[i], services[i] = ix.names[j], ix.services[j]
		ix.byName[names[i]] = i
	}
	ix.names, ix.services = names, services
	return ix
}

// groupNamed returns the group called name (contract.Check.Group).
func groupNamed(name string) health.Group {
	for _, g := range groups {
		if g.String() == name {
			return g
		}
	}
	return 0
}
