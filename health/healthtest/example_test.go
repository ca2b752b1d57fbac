package healthtest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// A Switch is a real check the test turns on and off.
func ExampleSwitch() {
	reg := health.New()
	defer reg.Close()

	var db healthtest.Switch
	_ = reg.Register(health.Readiness, "db", &db) // a *Switch is a health.Checker

	rep, _ := reg.Check(context.Background(), health.Readiness)
	fmt.Println(rep.Status)

	db.Set(errors.New("connection refused"))
	rep, _ = reg.Check(context.Background(), health.Readiness)
	fmt.Printf("%s%s\n", rep.Status, healthtest.Describe(rep))
	fmt.Println("runs:", db.Runs())
	// Output:
	// pass
	// fail
	// 	db: fail: connection refused
	// runs: 2
}

// Fixed gives checks whose verdict never changes; health.Warn makes one
// degrade the group (200) instead of failing it (503).
func ExampleFixed() {
	reg := health.New()
	defer reg.Close()
	_ = reg.Register(health.Readiness, "cache", healthtest.Fixed(health.Warn(errors.New("cache cold"))))
	_ = reg.Register(health.Readiness, "config", healthtest.Fixed(nil))

	rep, _ := reg.Check(context.Background(), health.Readiness)
	fmt.Printf("%s%s\n", rep.Status, healthtest.Describe(rep))
	// Output:
	// warn
	// 	cache: warn: cache cold
}
