package health

import (
	"slices"
	"strings"

	"github.com/probekit/probekit/contract"
)

// Contract describes what the registry promises to probes, for tools such
// as the k8sprobes linter: the HTTP routes Mount registered (prefix
// included; none if Mount was not called), every check with its timeout,
// background interval and breaker, and whether readiness starts off. The
// application adds what only it knows before printing it: the ports it
// listens on (HTTP.Port, GRPC), its gRPC health service names, and its
// shutdown budget (Shutdown).
func (r *Registry) Contract() contract.Contract {
	c := contract.Contract{Version: contract.Version, Checks: []contract.Check{}}
	r.mu.Lock()
	defer r.mu.Unlock()
	c.StartsNotReady = r.notReady
	if len(r.mounted) > 0 {
		c.HTTP = &contract.HTTP{}
		for _, rt := range r.mounted {
			path := rt.Path
			if rt.PerCheck {
				path += "{check}"
			}
			c.HTTP.Routes = append(c.HTTP.Routes, contract.Route{Path: path, Group: rt.Group.String(), PerCheck: rt.PerCheck})
		}
	}
	for _, ch := range r.byName {
		cc := contract.Check{
			Name:        ch.name,
			Group:       ch.group.String(),
			Timeout:     contract.Duration(ch.opts.Timeout),
			Every:       contract.Duration(ch.opts.Every),
			NonCritical: ch.opts.NonCritical,
			Dependency:  ch.breaker != nil,
		}
		if b := ch.breaker; b != nil {
			cc.Breaker = &contract.Breaker{Failures: b.settings.Failures, Open: contract.Duration(b.settings.Open),
				Jitter: breakerJitter, Trials: b.settings.Trials}
		}
		c.Checks = append(c.Checks, cc)
	}
	slices.SortFunc(c.Checks, func(a, b contract.Check) int { return strings.Compare(a.Name, b.Name) })
	return c
}
