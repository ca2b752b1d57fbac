package main

import "time"

// Measured is what a validation run saw of one scenario, in the run's own
// time (scaled, or a synctest bubble's).
//
// The load is measured per pod, from the gaps between one pod's consecutive
// calls and from how long each call held its connection, rather than by
// counting calls fleet-wide in a window: pods whose breakers opened close
// together make their trials in waves, and a count over a few cycles would
// depend on where the window cuts the waves.
//
// The recovery is measured per pod too: the dependency comes back for each
// pod at a moment of its own, drawn uniformly over a window a few cycles
// long, so that the pods sample every phase of their cycle, as recoveries
// at random moments do.
type Measured struct {
	Cycle time.Duration // mean gap between a pod's consecutive calls
	// CycleErr is the standard error of Cycle, taking the gaps for
	// independent: jittered gaps vary, and the window holds a sample.
	CycleErr time.Duration
	Hold     time.Duration // mean time a call held its connection
	Calls    int           // calls that started within the window

	Recovered int // pods whose readiness passed after their recovery
	// Missed counts the pods left out of the recovery figures because a
	// call they made after their recovery failed all the same: on a busy
	// machine, with time scaled down, a dial or an answer can take longer
	// than the timeout. The model takes a call to a healthy dependency to
	// succeed.
	Missed  int
	Recover time.Duration // mean time from a pod's recovery until its readiness passed
	// RecoverErr is the standard error of Recover: recoveries at random
	// moments vary by up to a cycle, and the pods are a sample of them.
	RecoverErr time.Duration
	RecoverMax time.Duration // the longest of those times
}

// CallsPerPod returns calls per second per pod.
func (m Measured) CallsPerPod() float64 { return 1 / m.Cycle.Seconds() }

// HeldPerPod returns the connections one pod holds open on average
// (Little's law).
func (m Measured) HeldPerPod() float64 { return m.Hold.Seconds() / m.Cycle.Seconds() }
