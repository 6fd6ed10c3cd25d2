package classic

import (
	"time"

	"ferry/frame"
	"ferry/fsstore"
)

// The server's state that outlives a connection. The deployed clients'
// template opens a connection per request (register, key, file, verdict),
// so the AES key sent to a client and the file awaiting its verdict are
// kept per client ID, server-wide and in memory only: a server restart
// forgets them, and the client reconnects with 1027.

// pendingFile is a file received (2103 sent) that awaits 1029, 1030 or
// 1031. Whoever took it out of Server.pending owns it.
type pendingFile struct {
	up     *fsstore.Upload
	name   string // as the client sent it
	resend bool   // 1030 seen: the next 1028 of this name refills up
	timer  *time.Timer
}

// setKey remembers the AES key sent to a client.
func (s *Server) setKey(id frame.ClientID, k [AESKeySize]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = make(map[frame.ClientID][AESKeySize]byte)
	}
	s.keys[id] = k
}

// key returns the AES key last sent to a client.
func (s *Server) key(id frame.ClientID) ([AESKeySize]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	return k, ok
}

// takePending removes the file awaiting a verdict from client id, if any,
// and hands it to the caller.
func (s *Server) takePending(id frame.ClientID) *pendingFile {
	s.mu.Lock()
	p := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	if p != nil {
		p.timer.Stop() // if it fired, expire finds the entry gone and does nothing
	}
	return p
}

// putPending leaves p to await a verdict from client id, for at most the
// server's timeout. A file left there meanwhile by another connection of
// the same client is aborted: the newer one wins.
func (s *Server) putPending(id frame.ClientID, p *pendingFile) {
	p.timer = time.AfterFunc(s.timeout(), func() { s.expire(id, p) })
	s.mu.Lock()
	if s.pending == nil {
		s.pending = make(map[frame.ClientID]*pendingFile)
	}
	old := s.pending[id]
	s.pending[id] = p
	s.mu.Unlock()
	if old != nil {
		old.timer.Stop()
		old.up.Abort()
	}
}

// expire aborts p if it is still waiting.
func (s *Server) expire(id frame.ClientID, p *pendingFile) {
	s.mu.Lock()
	mine := s.pending[id] == p
	if mine {
		delete(s.pending, id)
	}
	s.mu.Unlock()
	if mine {
		s.logf("classic: no verdict on %q from %s: discarded", p.name, id)
		p.up.Abort()
	}
}

// abortPending aborts every file awaiting a verdict.
func (s *Server) abortPending() {
	s.mu.Lock()
	all := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, p := range all {
		p.timer.Stop()
		p.up.Abort()
	}
}
