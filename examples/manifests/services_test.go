package manifests_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestServicesReachPods checks every Service selects a pod template of its
// file and targets one of its container ports.
func TestServicesReachPods(t *testing.T) {
	ms := loadManifests(t)
	pods := podTemplates(ms)
	for _, m := range ms {
		svc, ok := m.obj.(*corev1.Service)
		if !ok {
			continue
		}
		t.Run(m.file+"/"+m.name, func(t *testing.T) {
			var matched []podTemplate
			for _, pt := range pods {
				if pt.m.file == m.file && selects(svc.Spec.Selector, pt.labels) {
					matched = append(matched, pt)
				}
			}
			require.NotEmpty(t, matched, "selector %v matches no pod template in %s", svc.Spec.Selector, m.file)
			for _, sp := range svc.Spec.Ports {
				target := sp.TargetPort
				if target.IntVal == 0 && target.StrVal == "" {
					target = intstr.FromInt32(sp.Port)
				}
				for _, pt := range matched {
					found := slices.ContainsFunc(pt.spec.Containers, func(c corev1.Container) bool {
						_, err := containerPort(c, target)
						return err == nil
					})
					assert.True(t, found, "port %s: targetPort %s is no container port of %s", sp.Name, target.String(), pt.m.name)
				}
			}
		})
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}
