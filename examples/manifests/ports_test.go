package manifests_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// containerPort resolves a probe's or Service's port against c's ports.
func containerPort(c corev1.Container, port intstr.IntOrString) (int32, error) {
	for _, p := range c.Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return p.ContainerPort, nil
		}
	}
	return 0, fmt.Errorf("port %s is not a port of container %s", port.String(), c.Name)
}

// checkExposed checks the container ports are those the Dockerfile beside
// the manifest exposes, if there is one.
func checkExposed(t require.TestingT, dir string, c corev1.Container) {
	data, err := os.ReadFile(filepath.Join("..", dir, "Dockerfile"))
	if os.IsNotExist(err) {
		return
	}
	require.NoError(t, err)
	var exposed []int32
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.EqualFold(f[0], "EXPOSE") {
			for _, p := range f[1:] {
				n, err := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
				require.NoError(t, err, "EXPOSE %s", p)
				exposed = append(exposed, int32(n))
			}
		}
	}
	for _, p := range c.Ports {
		assert.Contains(t, exposed, p.ContainerPort, "containerPort %d is not EXPOSEd by %s/Dockerfile", p.ContainerPort, dir)
	}
}
