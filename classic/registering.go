package classic

// Registrations in progress. A name whose key has not come yet is handed
// out again with its ID, so that a client that went away between 2100 and
// 1026 can start over (see register). That must not happen while the
// client that got the 2100 is still on its way to its 1026: two clients
// that register one name at the same moment would share one ID, and one
// key would replace the other. So a connection that was answered 2100
// holds the name until it sends the key or ends, and a 1025 for the name
// on any other connection meanwhile gets 2101.

// claim marks name as being registered on sc and reports whether it may
// be: false when another connection holds it. A connection holds one name
// at a time; claiming another releases the first.
func (s *Server) claim(sc *conn, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if holder, ok := s.registering[name]; ok && holder != sc {
		return false
	}
	if sc.claimed != "" && sc.claimed != name {
		delete(s.registering, sc.claimed)
	}
	if s.registering == nil {
		s.registering = make(map[string]*conn)
	}
	s.registering[name], sc.claimed = sc, name
	return true
}

// unclaim releases the name sc holds, if any.
func (s *Server) unclaim(sc *conn) {
	if sc.claimed == "" {
		return
	}
	s.mu.Lock()
	delete(s.registering, sc.claimed)
	s.mu.Unlock()
	sc.claimed = ""
}
