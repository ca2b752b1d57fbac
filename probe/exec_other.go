//go:build !unix

package probe

import "os/exec"

// setProcessGroup does nothing where process groups do not exist; only the
// command itself is killed on timeout there.
func setProcessGroup(*exec.Cmd) {}

// killProcessGroup kills the command alone.
func killProcessGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
