package contract_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/contract"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sample() contract.Contract {
	return contract.Contract{
		Version:        contract.Version,
		StartsNotReady: true,
		HTTP: &contract.HTTP{Port: "http", Routes: []contract.Route{
			{Path: "/", Group: contract.Liveness},
			{Path: "/ready", Group: contract.Readiness},
			{Path: "/readyz/{check}", Group: contract.Readiness, PerCheck: true},
		}},
		Checks: []contract.Check{
			{Name: "loop", Group: contract.Liveness, Timeout: contract.Duration(500 * time.Millisecond)},
			{Name: "postgres", Group: contract.Readiness, Timeout: contract.Duration(2 * time.Second), Every: contract.Duration(10 * time.Second),
				Dependency: true, Breaker: &contract.Breaker{Failures: 3, Open: contract.Duration(30 * time.Second), Jitter: 0.2, Trials: 1}},
			{Name: "warm", Group: contract.Startup, Timeout: contract.Duration(time.Second)},
		},
		Shutdown: contract.Shutdown{PreStop: contract.Duration(10 * time.Second), Drain: contract.Duration(5 * time.Second), Timeout: contract.Duration(10 * time.Second)},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	c := sample()
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"timeout":"2s"`)
	assert.Contains(t, string(b), `"every":"10s"`)
	got, err := contract.Parse(b)
	require.NoError(t, err)
	assert.Equal(t, c, got)
}

func TestDurationAcceptsNanoseconds(t *testing.T) {
	var d contract.Duration
	require.NoError(t, json.Unmarshal([]byte(`1500000000`), &d))
	assert.Equal(t, 1500*time.Millisecond, time.Duration(d))
	assert.Error(t, json.Unmarshal([]byte(`"soon"`), &d))
	assert.Error(t, json.Unmarshal([]byte(`true`), &d))
}

func TestRuns(t *testing.T) {
	c := sample()
	names := func(cs []contract.Check) (out []string) {
		for _, ch := range cs {
			out = append(out, ch.Name)
		}
		return out
	}
	assert.Equal(t, []string{"loop"}, names(c.Runs(contract.Liveness)))
	assert.Equal(t, []string{"loop", "postgres", "warm"}, names(c.Runs(contract.Readiness)))
	assert.Equal(t, []string{"warm"}, names(c.Runs(contract.Startup)))
	assert.Nil(t, c.Runs("bogus"))
}

func TestShutdownTotal(t *testing.T) {
	assert.Equal(t, 25*time.Second, sample().Shutdown.Total())
}

func TestValidateRefuses(t *testing.T) {
	for name, mutate := range map[string]func(*contract.Contract){
		"version":        func(c *contract.Contract) { c.Version = 2 },
		"route group":    func(c *contract.Contract) { c.HTTP.Routes[0].Group = "live" },
		"service group":  func(c *contract.Contract) { c.GRPC = &contract.GRPC{Services: []contract.Service{{Group: "x"}}} },
		"check group":    func(c *contract.Contract) { c.Checks[0].Group = "" },
		"duplicate":      func(c *contract.Contract) { c.Checks[1].Name = "loop" },
		"negative":       func(c *contract.Contract) { c.Checks[0].Timeout = -1 },
		"negative drain": func(c *contract.Contract) { c.Shutdown.Drain = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			c := sample()
			mutate(&c)
			assert.Error(t, c.Validate())
			b, err := json.Marshal(c)
			require.NoError(t, err)
			_, err = contract.Parse(b)
			assert.Error(t, err)
		})
	}
	_, err := contract.Parse([]byte(`{`))
	assert.Error(t, err)
}
