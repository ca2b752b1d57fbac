package k8sprobes

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// pod is the pod template of a workload manifest, with what the Services of
// the input do with it.
type pod struct {
	m      *Manifest
	spec   *corev1.PodSpec
	labels map[string]string
	// annotations are the pod's (kubectl.kubernetes.io/default-container).
	annotations map[string]string
	path        []any // of the pod spec in the manifest
	// batch pods run to completion (Job, CronJob, restartPolicy Never or
	// OnFailure): they need no probe.
	batch bool
	// services select the pod and route by readiness (they do not
	// publish not-ready addresses).
	services []*corev1.Service
}

// container is one container of a pod that the rules look at.
type container struct {
	c    *corev1.Container
	path []any // of the container in the manifest
	// sidecar is set for a native sidecar (an init container with
	// restartPolicy Always), which may have probes but needs none.
	sidecar bool
}

// podOf returns the pod template of m, if m is a workload.
func podOf(m *Manifest) (pod, bool) {
	p := pod{m: m}
	template := func(t *corev1.PodTemplateSpec, path ...any) {
		p.spec, p.labels, p.annotations, p.path = &t.Spec, t.Labels, t.Annotations, path
	}
	switch o := m.Object.(type) {
	case *appsv1.Deployment:
		template(&o.Spec.Template, "spec", "template", "spec")
	case *appsv1.StatefulSet:
		template(&o.Spec.Template, "spec", "template", "spec")
	case *appsv1.DaemonSet:
		template(&o.Spec.Template, "spec", "template", "spec")
	case *appsv1.ReplicaSet:
		template(&o.Spec.Template, "spec", "template", "spec")
	case *batchv1.Job:
		template(&o.Spec.Template, "spec", "template", "spec")
		p.batch = true
	case *batchv1.CronJob:
		template(&o.Spec.JobTemplate.Spec.Template, "spec", "jobTemplate", "spec", "template", "spec")
		p.batch = true
	case *corev1.Pod:
		p.spec, p.labels, p.annotations, p.path = &o.Spec, o.Labels, o.Annotations, []any{"spec"}
	case *corev1.PodTemplate:
		template(&o.Template, "template", "spec")
	default:
		return pod{}, false
	}
	switch p.spec.RestartPolicy {
	case corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure:
		p.batch = true
	}
	return p, true
}

// containers returns the pod's containers and native sidecars.
func (p *pod) containers() []container {
	var out []container
	for i := range p.spec.InitContainers {
		c := &p.spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, container{c: c, path: append(clonePath(p.path), "initContainers", i), sidecar: true})
		}
	}
	for i := range p.spec.Containers {
		out = append(out, container{c: &p.spec.Containers[i], path: append(clonePath(p.path), "containers", i)})
	}
	return out
}

func clonePath(p []any) []any { return append([]any(nil), p...) }

// line returns the line of the setting at path under the manifest's root.
func (p *pod) line(path ...any) int { return lineAt(p.m.node, path...) }

// selects reports whether svc selects the pod: a selector all of whose
// labels the pod has, in the same namespace (a namespace left out, to be
// set by kubectl, matches any).
func selects(svc *Manifest, p *pod) bool {
	s := svc.Object.(*corev1.Service)
	if s.Spec.Type == corev1.ServiceTypeExternalName || len(s.Spec.Selector) == 0 {
		return false
	}
	if svc.Namespace != "" && p.m.Namespace != "" && svc.Namespace != p.m.Namespace {
		return false
	}
	for k, v := range s.Spec.Selector {
		if got, ok := p.labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// routes reports whether svc sends traffic to c: one of its ports targets
// a port of c, or none of its ports names a port of any container of the
// pod (a number the containers do not declare, or no ports at all), in
// which case it may reach any of them.
func routes(svc *corev1.Service, p *pod, c *corev1.Container) bool {
	anyResolved := false
	for _, sp := range svc.Spec.Ports {
		target := sp.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 || target.Type == intstr.String && target.StrVal == "" {
			target = intstr.FromInt32(sp.Port)
		}
		for _, cc := range p.containers() {
			if _, ok := containerPort(cc.c, target); ok {
				anyResolved = true
				if cc.c == c {
					return true
				}
			}
		}
	}
	return !anyResolved
}

// containerPort resolves port (a number or a port name) against c's
// declared ports: the number, and whether c declares it.
func containerPort(c *corev1.Container, port intstr.IntOrString) (int32, bool) {
	for _, p := range c.Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return p.ContainerPort, true
		}
	}
	if port.Type == intstr.Int {
		return port.IntVal, false
	}
	return 0, false
}
