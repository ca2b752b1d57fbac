package health_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/health"
)

func TestContractDescribesTheRegistry(t *testing.T) {
	r := openRegistry(t)
	var runs checkSwitch
	mustRegister(t, r, health.Readiness, "db", health.DependencyFunc(runs.Check), health.CheckOptions{
		Timeout: time.Second, Breaker: health.BreakerSettings{Failures: 5, Trials: 2},
	})
	mustRegister(t, r, health.Liveness, "loop", passing, health.CheckOptions{Every: 10 * time.Second})
	mustRegister(t, r, health.Readiness, "cache", &runs, health.CheckOptions{NonCritical: true})
	mustRegister(t, r, health.Startup, "migrate", &runs, health.CheckOptions{Timeout: time.Minute})

	c := r.Contract()
	require.NoError(t, c.Validate())
	assert.Equal(t, contract.Version, c.Version)
	assert.False(t, c.StartsNotReady)
	assert.Nil(t, c.HTTP, "no routes until Mount")
	assert.Nil(t, c.GRPC, "the application adds what only it knows")
	assert.Equal(t, contract.Shutdown{}, c.Shutdown)
	assert.Equal(t, []contract.Check{
		{Name: "cache", Group: "readiness", Timeout: contract.Duration(500 * time.Millisecond), NonCritical: true},
		{Name: "db", Group: "readiness", Timeout: contract.Duration(time.Second), Dependency: true,
			Breaker: &contract.Breaker{Failures: 5, Open: contract.Duration(30 * time.Second), Jitter: 0.2, Trials: 2}},
		{Name: "loop", Group: "liveness", Timeout: contract.Duration(500 * time.Millisecond), Every: contract.Duration(10 * time.Second)},
		{Name: "migrate", Group: "startup", Timeout: contract.Duration(time.Minute)},
	}, c.Checks, "every check, sorted by name")
	assert.Zero(t, runs.runs.Load(), "describing runs nothing (of the checks that run on request)")

	var names []string
	for _, ch := range c.Runs(contract.Readiness) {
		names = append(names, ch.Name)
	}
	assert.Equal(t, []string{"cache", "db", "loop", "migrate"}, names, "readiness reads liveness and startup too")

	// The JSON form round-trips.
	b, err := json.Marshal(c)
	require.NoError(t, err)
	var back contract.Contract
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)
}

func TestContractRoutesAsMounted(t *testing.T) {
	r := openRegistry(t, health.Options{StartNotReady: "warming"})
	assert.True(t, r.Contract().StartsNotReady)
	require.NoError(t, r.Mount(http.NewServeMux(), health.MountOptions{Prefix: "/health"}))
	require.NoError(t, r.Mount(http.NewServeMux(), health.MountOptions{Paths: []string{"/ready"}}))
	c := r.Contract()
	require.NotNil(t, c.HTTP)
	assert.Equal(t, []contract.Route{
		{Path: "/health/", Group: "liveness"},
		{Path: "/health/ready", Group: "readiness"},
		{Path: "/health/livez", Group: "liveness"},
		{Path: "/health/readyz", Group: "readiness"},
		{Path: "/health/startupz", Group: "startup"},
		{Path: "/health/livez/{check}", Group: "liveness", PerCheck: true},
		{Path: "/health/readyz/{check}", Group: "readiness", PerCheck: true},
		{Path: "/health/startupz/{check}", Group: "startup", PerCheck: true},
		{Path: "/ready", Group: "readiness"},
	}, c.HTTP.Routes, "prefix included, the bare prefix's 404 left out")
	assert.Empty(t, c.HTTP.Port, "the application adds its port")
	require.NoError(t, c.Validate())

	// A refused Mount adds nothing.
	mux := http.NewServeMux()
	mux.HandleFunc("/", home)
	require.Error(t, r.Mount(mux))
	assert.Len(t, r.Contract().HTTP.Routes, 9)
}
