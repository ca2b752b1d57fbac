package grpchealth

import "github.com/probekit/probekit/contract"

// Contract describes, for the probe contract (package contract), the
// gRPC health service names the server answers now: every name Check
// answers with the group whose status it reports and, for a name that
// reports one check, the check's name; sorted by name. port is the port
// the gRPC server listens on, as Kubernetes' grpc probes need it (zero if
// not declared). Names mapped to checks not registered yet are left out,
// as Check does; so describe the server once every check is registered:
//
//	c := reg.Contract()
//	g := hs.Contract(9090)
//	c.GRPC = &g
func (s *Server) Contract(port int) contract.GRPC {
	ix := s.view().ix
	g := contract.GRPC{Port: port, Services: make([]contract.Service, 0, len(ix.names))}
	for i, name := range ix.names {
		svc := &ix.services[i]
		g.Services = append(g.Services, contract.Service{Name: name, Group: svc.group.String(), Check: svc.check})
	}
	return g
}
