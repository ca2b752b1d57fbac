package health

import (
	"slices"
	"strings"
)

// hasEntry reports whether group g's report has an entry called name.
func (r *Registry) hasEntry(g Group, name string) bool {
	if e := ownEntry(name); e != nil {
		return e.group == g
	}
	r.mu.Lock()
	c := r.byName[name]
	r.mu.Unlock()
	return c != nil && c.group == g
}

// snapshot is an immutable view of what is registered, rebuilt after each
// registration (and when startup completes) at the first probe that needs
// it, so that registering n checks costs O(n) and not O(n²).
type snapshot struct {
	// entries of each group's report, sorted by name: its checks and the
	// registry's own entries.
	entries [numGroups][]entry
	// due lists the checks a probe of each group runs: those that run on
	// request, in the group itself and, for readiness, in the liveness
	// group and the startup group until startup completes.
	due [numGroups][]*check
}

// entry is one line of a report: a check, or one of the registry's own.
type entry struct {
	c   *check
	own *ownEntryDef
}

func (e entry) name() string {
	if e.c != nil {
		return e.c.name
	}
	return e.own.name
}

// view returns the current snapshot.
func (r *Registry) view() *snapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.snap.Load(); s != nil {
		return s
	}
	s := new(snapshot)
	for _, g := range allGroups {
		list := make([]entry, 0, len(r.byGroup[g])+2)
		for _, c := range r.byGroup[g] {
			list = append(list, entry{c: c})
		}
		for i := range ownEntries {
			if ownEntries[i].group == g {
				list = append(list, entry{own: &ownEntries[i]})
			}
		}
		slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.name(), b.name()) })
		s.entries[g] = list
	}
	done := r.startupDone.Load()
	for _, g := range allGroups {
		for _, c := range r.byGroup[g] {
			if c.background() || c.isLatched() {
				continue
			}
			s.due[g] = append(s.due[g], c)
			if g == Liveness || g == Startup && !done {
				s.due[Readiness] = append(s.due[Readiness], c)
			}
		}
	}
	r.snap.Store(s)
	return s
}
