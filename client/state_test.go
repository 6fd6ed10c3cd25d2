package client

import (
	"os"
	"strings"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	s := State{Dir: t.TempDir()}
	id, err := s.Load("host:7417", "my pi")
	if err != nil || id.Registered || id.Name != "my pi" {
		t.Fatalf("new identity: %+v %v", id, err)
	}
	id.ID[0], id.Registered = 0xab, true
	if err := s.Save("host:7417", id); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("host:7417", "ignored")
	if err != nil || got.Name != "my pi" || got.ID != id.ID || !got.Registered || !got.Key.Equal(id.Key) {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	other, _ := s.Load("other:7417", "x")
	if other.Key.Equal(id.Key) {
		t.Fatal("two servers share a key")
	}
}

func TestStateDamaged(t *testing.T) {
	s := State{Dir: t.TempDir()}
	if _, err := s.Load("h", "n"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "name x\n", "name x\ned25519_seed zz\n", "name x\nbogus 1\ned25519_seed 00\n", "name x\nid 12\ned25519_seed " + strings.Repeat("00", 32) + "\n"} {
		os.WriteFile(s.path("h"), []byte(bad), 0o600)
		if _, err := s.Load("h", "n"); err == nil {
			t.Errorf("damaged state %q loaded", bad)
		}
	}
}

func TestStatePathStaysInDir(t *testing.T) {
	s := State{Dir: "/st"}
	for _, server := range []string{"../../etc/passwd", "serial:/dev/ttyUSB0", `a\..\b`} {
		if p := s.path(server); !strings.HasPrefix(p, "/st/servers/") || strings.Count(p, "/") != 3 {
			t.Errorf("%q maps to %q", server, p)
		}
	}
}
