package k8sprobes

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/probekit/probekit/contract"
)

// GenerateOptions adjusts Generate. The zero value is ready to use.
type GenerateOptions struct {
	// Port is the container port the probes ask: a number, or for HTTP
	// a port name. Empty means the contract's port (HTTP.Port, or
	// GRPC.Port for gRPC probes), else "http" for HTTP probes; gRPC probes
	// need a number.
	Port string
	// GRPC makes grpc probes even when the app also serves HTTP routes;
	// they are made anyway when it serves only gRPC.
	GRPC bool
	// Container is the container's name in the output ("app" if empty).
	Container string
}

// The probe settings Generate starts from (docs/kubernetes.md): liveness
// acts after 30 s of failure, readiness after 10 s, and a startup probe
// allows at least 30 s.
const (
	genLivePeriod, genLiveFailures   = 10, 3
	genReadyPeriod, genReadyFailures = 5, 2
	genStartBudget                   = 30
)

// Generate returns the probes and shutdown settings for the container that
// serves contract c, as YAML for a pod template's spec, each setting with
// a comment saying why: terminationGracePeriodSeconds (when the contract
// declares a shutdown budget), and a container with ports (when the port
// is a number), startupProbe (when the app serves a startup endpoint),
// livenessProbe, readinessProbe and lifecycle.preStop (when the budget has
// a preStop wait). The probes are HTTP, or gRPC when the app serves only
// gRPC or opts.GRPC is set; their timeouts exceed the checks' they run on
// request, liveness acts slower than readiness, and the startup probe
// waits for the slowest startup check's retry. Linted against c, the
// output has no finding. Generate returns an error if c is invalid or does
// not serve the probes asked for.
func Generate(c contract.Contract, opts GenerateOptions) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	g := gen{c: &c, grpc: opts.GRPC || c.HTTP == nil, name: cmpOr(opts.Container, "app")}
	if err := g.port(opts.Port); err != nil {
		return "", err
	}
	if g.endpoint(contract.Liveness) == "" && g.endpoint(contract.Readiness) == "" {
		return "", errors.New("k8sprobes: the contract serves neither liveness nor readiness on " + g.transport())
	}
	return g.yaml(), nil
}

// gen holds what Generate derives.
type gen struct {
	c     *contract.Contract
	grpc  bool
	name  string
	portV string // as written in the probes
	num   int    // the port's number, 0 if a name
	b     strings.Builder
}

func (g *gen) transport() string {
	if g.grpc {
		return "gRPC"
	}
	return "HTTP"
}

func (g *gen) port(p string) error {
	switch {
	case g.grpc && g.c.GRPC == nil:
		return errors.New("k8sprobes: the contract serves no gRPC health service")
	case g.grpc && p == "" && g.c.GRPC.Port == 0:
		return errors.New("k8sprobes: gRPC probes need a port number, and the contract names none: give one")
	case g.grpc && p == "":
		p = strconv.Itoa(g.c.GRPC.Port)
	case p == "" && g.c.HTTP.Port != "":
		p = g.c.HTTP.Port
	case p == "":
		p = "http"
	}
	n, err := strconv.Atoi(p)
	switch {
	case err == nil && (n < 1 || n > 65535):
		return fmt.Errorf("k8sprobes: port %d out of range", n)
	case err != nil && g.grpc:
		return fmt.Errorf("k8sprobes: gRPC probes need a port number, not %q", p)
	case err != nil && (len(p) > 15 || strings.ContainsAny(p, " \t\n:#'\"{}[],&*!|>%@`")):
		return fmt.Errorf("k8sprobes: %q is not a port name", p)
	}
	if err == nil {
		g.num = n
	}
	g.portV = p
	return nil
}

// endpoint returns the whole-group path or gRPC service name (quoted) the
// app serves for group, or "".
func (g *gen) endpoint(group string) string {
	if g.grpc {
		found := ""
		for _, s := range g.c.GRPC.Services {
			switch {
			case s.Group != group || s.Check != "":
			case s.Name == group: // "liveness": says what it is
				return strconv.Quote(s.Name)
			case found == "":
				found = strconv.Quote(s.Name)
			}
		}
		return found
	}
	for _, r := range g.c.HTTP.Routes {
		if r.Group == group && !r.PerCheck {
			return r.Path
		}
	}
	return ""
}

// timeout is the probe timeout for group: above the longest check
// timeout its endpoint runs on request, by a second, and at least 2 s.
func (g *gen) timeout(group string) (int32, string) {
	longest, name := onRequest(g.c.Runs(group))
	t := max(2, int32(math.Ceil(longest.Seconds()))+1)
	if longest == 0 {
		return t, "no check runs on request: the app answers at once; 2 s for a busy node"
	}
	return t, fmt.Sprintf("above the %v timeout of check %s, which runs on each probe, so the app answers first", longest, name)
}

func (g *gen) line(indent int, text, why string) {
	g.b.WriteString(strings.Repeat(" ", indent) + text)
	if why != "" {
		g.b.WriteString(" # " + why)
	}
	g.b.WriteString("\n")
}

func (g *gen) yaml() string {
	sd := g.c.Shutdown
	preStop := int64(math.Ceil(time.Duration(sd.PreStop).Seconds()))
	g.line(0, "# Probes and shutdown settings derived from the app's contract by probelint -generate:", "")
	g.line(0, "# merge them into the pod template's spec.", "")
	if sd.Total() > 0 {
		var longest time.Duration
		for _, ch := range g.c.Checks {
			longest = max(longest, time.Duration(ch.Timeout))
		}
		budget := time.Duration(preStop)*time.Second + time.Duration(sd.Drain) + time.Duration(sd.Timeout) + longest
		g.line(0, fmt.Sprintf("terminationGracePeriodSeconds: %d", graceFor(budget)),
			fmt.Sprintf("counts from before preStop: preStop %ds + drain %v + shutdown %v + longest check timeout %v = %v, plus 5 s", preStop, time.Duration(sd.Drain), time.Duration(sd.Timeout), longest, budget))
	} else {
		g.line(0, "# terminationGracePeriodSeconds: the app declares no shutdown budget; the default 30 s stands.", "")
	}
	g.line(0, "containers:", "")
	g.line(2, "- name: "+g.name, "your container's name")
	if g.num != 0 {
		g.line(4, "ports:", "")
		g.line(6, fmt.Sprintf("- containerPort: %d", g.num), "the app's health port, declared so that the probes' port is documented")
	} else {
		g.line(4, "# ports: declare a container port named "+g.portV+"; the probes ask it by name.", "")
	}
	liveT, _ := g.timeout(contract.Liveness)
	readyT, _ := g.timeout(contract.Readiness)
	readyPeriod := max(genReadyPeriod, readyT)
	readyWindow := readyPeriod * genReadyFailures
	if g.endpoint(contract.Startup) != "" {
		t, why := g.timeout(contract.Startup)
		need, name := startupNeed(g.c, time.Second)
		failures := max(genStartBudget, int32(math.Ceil(need.Seconds())))
		budgetWhy := fmt.Sprintf("%d s to start (at least %d s)", failures, genStartBudget)
		if name != "" {
			budgetWhy += fmt.Sprintf(", covering a failed run and a retry of startup check %s (%v)", name, need.Round(100*time.Millisecond))
		}
		g.probe("startupProbe", contract.Startup, "holds liveness and readiness back until the app's startup checks have passed",
			t, why, 1, "a fast start is seen within a second", failures, budgetWhy)
	} else {
		g.line(4, "# startupProbe: the app serves no startup endpoint.", "")
	}
	if g.endpoint(contract.Liveness) != "" {
		period := max(genLivePeriod, liveT)
		failures := max(genLiveFailures, readyWindow/period+1)
		g.probe("livenessProbe", contract.Liveness, "checks the process only: restarts it when a restart can help",
			liveT, timeoutWhy(g, contract.Liveness), period, "no need to look often: failureThreshold sets how long a failure lasts before a restart", failures,
			fmt.Sprintf("%d s of failure before a restart: slower to act than readiness (%d s), never on one failure", period*failures, readyWindow))
	} else {
		g.line(4, "# livenessProbe: the app serves no liveness endpoint.", "")
	}
	if g.endpoint(contract.Readiness) != "" {
		g.probe("readinessProbe", contract.Readiness, "takes the pod out of rotation while its checks fail, before it is ready and while it drains",
			readyT, timeoutWhy(g, contract.Readiness), readyPeriod, "often, so that the pod leaves and rejoins rotation within seconds", genReadyFailures,
			fmt.Sprintf("%d s of failure to leave rotation, which is cheap and undone at the next success", readyWindow))
	} else {
		g.line(4, "# readinessProbe: the app serves no readiness endpoint.", "")
	}
	if preStop > 0 {
		g.line(4, "lifecycle:", "")
		g.line(6, "preStop:", "")
		g.line(8, "sleep:", "Kubernetes 1.32 or later")
		g.line(10, fmt.Sprintf("seconds: %d", preStop), "the app's declared preStop wait: it keeps serving while its removal from the endpoints spreads")
	}
	return g.b.String()
}

func timeoutWhy(g *gen, group string) string {
	_, why := g.timeout(group)
	return why
}

// probe writes one probe.
func (g *gen) probe(field, group, why string, timeout int32, timeoutWhy string, period int32, periodWhy string, failures int32, failuresWhy string) {
	g.line(4, field+":", why)
	if g.grpc {
		g.line(6, "grpc:", "")
		g.line(8, "port: "+g.portV, "grpc probes need the number")
		g.line(8, "service: "+g.endpoint(group), "answers for "+group)
	} else {
		g.line(6, "httpGet:", "")
		g.line(8, "path: "+yamlString(g.endpoint(group)), "answers for "+group)
		g.line(8, "port: "+g.portV, "the app's health port")
	}
	g.line(6, fmt.Sprintf("timeoutSeconds: %d", timeout), timeoutWhy)
	g.line(6, fmt.Sprintf("periodSeconds: %d", period), periodWhy)
	g.line(6, fmt.Sprintf("failureThreshold: %d", failures), failuresWhy)
}

var plainPath = regexp.MustCompile(`^/[A-Za-z0-9/_.~-]*$`)

// yamlString writes s plain if YAML reads it back as the same string,
// double-quoted otherwise.
func yamlString(s string) string {
	if plainPath.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}
