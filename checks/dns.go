package checks

import (
	"context"
	"net"

	"github.com/probekit/probekit/health"
)

// A Resolver looks up the addresses of a host. *net.Resolver satisfies it;
// LookupHost must honour ctx.
type Resolver interface {
	LookupHost(ctx context.Context, host string) (addrs []string, err error)
}

// A DNSOption configures a DNS check.
type DNSOption func(*dnsConfig)

type dnsConfig struct {
	resolver    Resolver
	resolverSet bool
	minAddrs    int
}

// DNSResolver makes the check use r instead of net.DefaultResolver, for
// example a *net.Resolver that asks a given server. A nil r, other than a nil
// *net.Resolver (which means the default resolver), is a misconfiguration
// that Register refuses.
func DNSResolver(r Resolver) DNSOption {
	return func(c *dnsConfig) { c.resolver, c.resolverSet = r, true }
}

// DNSMinAddrs makes the check fail unless the name resolves to at least n
// addresses (the default is 1), for a headless Service that must have n
// ready endpoints. An n below 1 is a misconfiguration that Register refuses.
func DNSMinAddrs(n int) DNSOption {
	return func(c *dnsConfig) { c.minAddrs = n }
}

// DNS returns a check that passes when host resolves to at least one
// address (see DNSMinAddrs) before the check's context is done. The check
// observes the lookup time in milliseconds.
//
// DNS is a dependency check, a health.DependencyFunc: readiness only
// (Register refuses it elsewhere with health.ErrDependencyGroup), behind a
// circuit breaker. An empty host or an invalid option is a
// misconfiguration: Register refuses the check with an error matching
// health.ErrMisconfigured and starting "checks: DNS:". With the cgo
// resolver, a lookup that outlives the context leaves a goroutine in the
// net package until the system resolver returns; the pure Go resolver has
// no such goroutine.
func DNS(host string, opts ...DNSOption) health.Checker {
	c := dnsConfig{resolver: net.DefaultResolver, minAddrs: 1}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if nr, ok := c.resolver.(*net.Resolver); c.resolverSet && ok && nr == nil {
		c.resolver = net.DefaultResolver
	}
	switch {
	case host == "":
		return misconfigured("DNS", "empty host name")
	case isNil(c.resolver):
		return misconfigured("DNS", "nil Resolver")
	case c.minAddrs < 1:
		return misconfigured("DNS", "minimum number of addresses must be positive, got %d", c.minAddrs)
	}
	r, want := c.resolver, c.minAddrs
	return health.DependencyFunc(func(ctx context.Context) error {
		addrs, err := r.LookupHost(ctx, host)
		if err != nil {
			return wrap("DNS", "", err)
		}
		if len(addrs) < want {
			return failf("DNS", "%s resolved to %d addresses, want at least %d", host, len(addrs), want)
		}
		return nil
	})
}
