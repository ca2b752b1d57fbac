package grpchealth_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// TestContractListsWhatCheckAnswers: the names Contract lists are exactly
// those List (and so Check) answers, each with its group and, for one
// check, the check's name; the result joins the registry's contract and
// survives its JSON form.
func TestContractListsWhatCheckAnswers(t *testing.T) {
	tg := newThreeGroups(t)
	e := serve(t, tg.reg, grpchealth.Settings{})
	got := e.hs.Contract(9090)
	assert.Equal(t, contract.GRPC{Port: 9090, Services: []contract.Service{
		{Name: "", Group: contract.Readiness},
		{Name: "db", Group: contract.Readiness, Check: "db"},
		{Name: "liveness", Group: contract.Liveness},
		{Name: "loop", Group: contract.Liveness, Check: "loop"},
		{Name: "readiness", Group: contract.Readiness},
		{Name: "startup", Group: contract.Startup},
		{Name: "warmup", Group: contract.Startup, Check: "warmup"},
	}}, got)
	listed, err := list(t, e)
	require.NoError(t, err)
	var names []string
	for _, s := range got.Services {
		names = append(names, s.Name)
		assert.Contains(t, listed, s.Name)
	}
	assert.Len(t, listed, len(names))

	// What an application prints.
	c := tg.reg.Contract()
	c.GRPC = &got
	require.NoError(t, c.Validate())
	data, err := json.Marshal(c)
	require.NoError(t, err)
	parsed, err := contract.Parse(data)
	require.NoError(t, err)
	assert.Equal(t, got, *parsed.GRPC)
}

func TestContractCustomNames(t *testing.T) {
	tg := newThreeGroups(t)
	services := map[string]grpchealth.Target{
		"":                   grpchealth.GroupTarget(health.Readiness),
		"helloworld.Greeter": grpchealth.GroupTarget(health.Readiness),
		"database":           grpchealth.CheckTarget("db"),
		"later":              grpchealth.CheckTarget("not-yet"),
	}
	hs, err := grpchealth.NewServer(tg.reg, grpchealth.Settings{Services: services, HideChecks: true})
	require.NoError(t, err)
	want := []contract.Service{
		{Name: "", Group: contract.Readiness},
		{Name: "database", Group: contract.Readiness, Check: "db"},
		{Name: "helloworld.Greeter", Group: contract.Readiness},
	}
	assert.Equal(t, contract.GRPC{Services: want}, hs.Contract(0), "hidden checks and unregistered targets are left out")

	require.NoError(t, tg.reg.Register(health.Liveness, "not-yet", healthtest.Fixed(nil)))
	want = append(want, contract.Service{Name: "later", Group: contract.Liveness, Check: "not-yet"})
	assert.Equal(t, want, hs.Contract(0).Services, "a registration is seen at once, with the check's group")

	empty, err := grpchealth.NewServer(openRegistry(t), grpchealth.Settings{Services: map[string]grpchealth.Target{}, HideChecks: true})
	require.NoError(t, err)
	assert.Equal(t, contract.GRPC{Services: []contract.Service{}}, empty.Contract(0), "no names: an empty list, not null, in JSON")
}
