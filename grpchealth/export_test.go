package grpchealth

// ViewsBuilt returns how many times s has read the registry's state
// (health.Registry.Contract and Latest) to rebuild what it answers from.
func ViewsBuilt(s *Server) int64 { return s.builds.Load() }
