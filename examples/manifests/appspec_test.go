package manifests_test

import (
	"os"
	"path/filepath"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/contract"
)

// appSpec describes an example app for the cross-check.
type appSpec struct {
	pkg string // main package, relative to the examples module
	// status is what each probe path answers right after start, before
	// anyone touches the app. Every probe path of the manifest must be
	// listed.
	status map[string]int
	// checkTimeout is the longest timeout of the app's checks: probe
	// timeouts must exceed it, or the kubelet gives up before the check
	// can report its own verdict. specFor takes it from the app's
	// probe-contract.json.
	checkTimeout time.Duration
	// drainFlag and shutdownFlag name the flags that set the drain delay
	// and the shutdown timeout, with their defaults.
	drainFlag, shutdownFlag       string
	drainDefault, shutdownDefault time.Duration
}

// apps are the example apps whose manifests are cross-checked by running
// them, by the directory under examples/ that holds the manifest.
var apps = map[string]appSpec{
	"seedapp": {
		pkg:       "./seedapp",
		status:    map[string]int{"/startupz": 200, "/": 200, "/ready": 503}, // starts not ready
		drainFlag: "drain-delay", drainDefault: 5 * time.Second,
		shutdownFlag: "shutdown-timeout", shutdownDefault: 10 * time.Second,
	},
}

// defaultCheckTimeout is the timeout of a check that sets none (the
// default of health.CheckOptions.Timeout): the rules assume it for a
// manifest whose app has no probe-contract.json.
const defaultCheckTimeout = 500 * time.Millisecond

// specFor returns the spec of the app whose manifest is in dir (the zero
// spec if it is not in apps), with checkTimeout from the app's committed
// probe contract if it has one, else defaultCheckTimeout.
func specFor(t require.TestingT, dir string, spec appSpec) appSpec {
	spec.checkTimeout = defaultCheckTimeout
	if c, ok := loadContract(t, dir); ok {
		spec.checkTimeout = 0
		for _, ch := range c.Checks {
			spec.checkTimeout = max(spec.checkTimeout, time.Duration(ch.Timeout))
		}
	}
	return spec
}

// loadContract reads the probe-contract.json beside the manifest in dir,
// which the app prints with -probe-contract (examples/contracts checks it
// is what it prints). ok is false if there is none.
func loadContract(t require.TestingT, dir string) (c contract.Contract, ok bool) {
	data, err := os.ReadFile(filepath.Join("..", dir, "probe-contract.json"))
	if os.IsNotExist(err) {
		return c, false
	}
	require.NoError(t, err)
	c, err = contract.Parse(data)
	require.NoError(t, err, "%s/probe-contract.json", dir)
	return c, true
}
