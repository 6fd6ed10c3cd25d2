package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"

	"ferry/client"
	"ferry/crypt"
	"ferry/frame"
)

// TestByeAhead: a put that ends the session (Last) sends its goodbye
// after its last file, ahead of the answers (PROTOCOL.md §4.6, bye). The
// server thanks it when every file was stored, and the session is over
// once Put returns; after a mismatch it refuses it, the file is sent
// again, and the session goes on until Close.
func TestByeAhead(t *testing.T) {
	f, bad := corruptingFixture(t)
	state := t.TempDir()
	p, want := randomFile(t, 50000)
	for _, tc := range []struct {
		name    string
		bad     int32
		resends int
		err     error
		over    bool // the session ended with the put
		omit    crypt.Features
		empty   bool // Last, then a Put of nothing before this one
	}{
		{"stored", 0, 0, nil, true, 0, false},
		{"resent", 1, 1, nil, false, 0, false},
		{"never", 8, 6, client.ErrChecksum, false, 0, false}, // both files, 4 times each
		// no feature short: no flag bit 1, no bye ahead (it would be a
		// protocol error)
		{"without short", 0, 0, nil, false, crypt.FeatureShort, false},
		// Last is for the next Put alone, even one that sends nothing
		{"after an empty put", 0, 0, nil, false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.connectWith(state, "pi", func(c *client.Config) { c.Omit = tc.omit })
			if err != nil {
				t.Fatal(err)
			}
			bad.Store(tc.bad)
			c.Last()
			if tc.empty {
				putAll(t, c, nil)
			}
			items := []client.PutItem{{Local: p, Remote: "a-" + tc.name}, {Local: p, Remote: tc.name}}
			res := putAll(t, c, items)
			resends := 0
			for _, r := range res {
				resends += r.Resends
				if !errors.Is(r.Err, tc.err) {
					t.Fatalf("%s: %v, want %v", r.Item.Remote, r.Err, tc.err)
				}
			}
			if resends != tc.resends {
				t.Fatalf("%d resends, want %d", resends, tc.resends)
			}
			_, err = c.List("", false)
			if over := err != nil; over != tc.over {
				t.Fatalf("a list after the put: %v; want the session over: %v", err, tc.over)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			for _, it := range items {
				if b, ok := f.stored(c.ID(), it.Remote); (tc.err == nil) != ok || ok && string(b) != string(want) {
					t.Fatalf("%s stored: %v (%d bytes)", it.Remote, ok, len(b))
				}
			}
		})
	}
}

// TestByePayload: a bye carries nothing, or ByeIfDone in a session with
// feature short (whose auth answers offer it); anything else is a
// protocol error.
func TestByePayload(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		name     string
		features crypt.Features
		payload  []byte
		want     frame.Code
	}{
		{"empty", crypt.FeatureOps | crypt.FeatureShort, nil, frame.CodeThanks},
		{"if-done", crypt.FeatureOps | crypt.FeatureShort, []byte{frame.ByeIfDone}, frame.CodeThanks},
		{"if-done without short", crypt.FeatureOps, []byte{frame.ByeIfDone}, frame.CodeError},
		{"other flag", crypt.FeatureOps | crypt.FeatureShort, []byte{2}, frame.CodeError},
		{"two bytes", crypt.FeatureOps | crypt.FeatureShort, []byte{1, 0}, frame.CodeError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := f.rawSessionWith(tc.features)
			defer s.Close()
			id := rawRegister(t, s, "bye")
			if err := s.WriteRequest(id, frame.CodeBye, tc.payload); err != nil {
				t.Fatal(err)
			}
			if h, _, err := s.ReadResponse(); err != nil || h.Code != tc.want {
				t.Fatalf("bye %x: %v %v, want %v", tc.payload, h.Code, err, tc.want)
			}
		})
	}
	// after a failed request, ByeIfDone is refused once, and the session
	// goes on
	s := f.rawSessionWith(crypt.FeatureOps | crypt.FeatureShort)
	defer s.Close()
	id := rawRegister(t, s, "bye")
	rm, mk := frame.PathReq{Path: "missing"}, frame.PathReq{Path: "d"}
	for i, step := range []struct {
		code frame.Code
		p    []byte
		want frame.Code
	}{
		{frame.CodeRemove, rm.Marshal(), frame.CodeFailed},
		{frame.CodeBye, []byte{frame.ByeIfDone}, frame.CodeFailed},
		{frame.CodeMkdir, mk.Marshal(), frame.CodeDone},
		{frame.CodeBye, []byte{frame.ByeIfDone}, frame.CodeThanks},
	} {
		if err := s.WriteRequest(id, step.code, step.p); err != nil {
			t.Fatal(err)
		}
		h, b, err := s.ReadResponse()
		if err != nil || h.Code != step.want {
			t.Fatalf("step %d, %v: %v %v, want %v", i, step.code, h.Code, err, step.want)
		}
		if step.want == frame.CodeFailed && step.code == frame.CodeBye {
			if fl, err := frame.ParseFailed(b); err != nil || fl.Reason != frame.FailGoOn {
				t.Fatalf("refused bye: %+v %v, want reason %d", fl, err, frame.FailGoOn)
			}
		}
	}
}

// rawRegister registers name with a fresh key in s and returns its ID.
func rawRegister(t *testing.T, s *crypt.Session, name string) frame.ClientID {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	r := frame.Register{Name: name + rand.Text()[:6]}
	copy(r.PublicKey[:], pub)
	copy(r.Signature[:], crypt.SignRegister(priv, s.Transcript))
	p, _ := r.Marshal(s.Features.Has(crypt.FeatureShort))
	if err := s.WriteRequest(frame.ClientID{}, frame.CodeRegister, p); err != nil {
		t.Fatal(err)
	}
	h, b, err := s.ReadResponse()
	if err != nil || h.Code != frame.CodeRegistered {
		t.Fatalf("register: %v %v", h.Code, err)
	}
	s.Authenticated(frame.ClientID(b[:frame.IDSize]))
	return frame.ClientID(b[:frame.IDSize])
}
