package server

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry/client"
	"ferry/crypt"
	"ferry/frame"
)

// logRecorder collects a server's log lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
	t     testing.TB
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " "))
	l.lines = append(l.lines, line)
	l.t.Log(line)
}

func (l *logRecorder) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// expectProtocolError reads responses until a 2107 whose reason contains
// want.
func expectProtocolError(t *testing.T, c *client.Client, want string) {
	t.Helper()
	for range 10 {
		h, p, err := c.Session().ReadResponse()
		if err != nil {
			t.Fatalf("no 2107 %q: %v", want, err)
		}
		if h.Code == frame.CodeError {
			if !strings.Contains(string(p), want) {
				t.Fatalf("2107 %q, want %q", p, want)
			}
			return
		}
	}
	t.Fatalf("no 2107 %q", want)
}

// TestChunkOfAnotherClient: inside an upload, a chunk or a 1029 carrying
// another client's ID is a protocol error (PROTOCOL.md §4.6), as is a
// chunk larger than negotiated. The client offers no feature short, whose
// compact requests carry no ID at all (TestCompactRequests).
func TestChunkOfAnotherClient(t *testing.T) {
	f := newFixture(t, nil)
	cases := map[string]func(c *client.Client){
		"chunk": func(c *client.Client) {
			sf := frame.SendFile{Size: 100, Name: "x"}
			p, _ := sf.Marshal()
			c.Session().WriteRequest(c.ID(), frame.CodeSendFile, p)
			c.Session().WriteRequest(frame.ClientID{9}, frame.CodeLastChunk, make([]byte, 100))
		},
		"checksum-ok": func(c *client.Client) {
			sf := frame.SendFile{Size: 10, Name: "y"}
			p, _ := sf.Marshal()
			c.Session().WriteRequest(c.ID(), frame.CodeSendFile, p)
			c.Session().WriteRequest(c.ID(), frame.CodeLastChunk, make([]byte, 10))
			c.Session().ReadResponse() // 2103
			n, _ := frame.NamePayload("y")
			c.Session().WriteRequest(frame.ClientID{9}, frame.CodeChecksumOK, n)
		},
		"put chunk": func(c *client.Client) {
			put := frame.Put{Size: 10, Path: "z"}
			c.Session().WriteRequest(c.ID(), frame.CodePut, put.Marshal())
			c.Session().WriteRequest(frame.ClientID{9}, frame.CodeLastChunk, make([]byte, 10))
		},
		"chunk too large": func(c *client.Client) {
			put := frame.Put{Size: 5000, Path: "big"}
			c.Session().WriteRequest(c.ID(), frame.CodePut, put.Marshal())
			c.Session().WriteRequest(c.ID(), frame.CodeLastChunk, make([]byte, 5000)) // the chunk is 4096
		},
	}
	for name, send := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := f.connectWith(t.TempDir(), "attacker-"+strings.ReplaceAll(name, " ", "-"), func(c *client.Config) { c.Omit = crypt.FeatureShort })
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			send(c)
			want := "client"
			if name == "chunk too large" {
				want = "negotiated chunk"
			}
			expectProtocolError(t, c, want)
		})
	}
}

// TestPeerThatNeverReads: a client that asks for a large download and
// never reads cannot hold its session past the idle timeout: writes have a
// deadline too.
func TestPeerThatNeverReads(t *testing.T) {
	rec := &logRecorder{t: t}
	p, _ := randomFile(t, 16<<20) // more than the socket buffers hold
	f := newFixture(t, func(c *Config) { c.IdleTimeout = time.Second; c.Logf = rec.logf })
	c, err := f.connect(t.TempDir(), "stalls")
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, c, []client.PutItem{{Local: p, Remote: "big"}})
	req := frame.PathReq{Path: "big"}
	c.Session().WriteRequest(c.ID(), frame.CodeGet, req.Marshal())
	deadline := time.Now().Add(6 * time.Second)
	for !rec.has(`session client "stalls"`) {
		if time.Now().After(deadline) {
			t.Fatal("the session of a peer that never reads is still there after 5 s (idle timeout 1 s)")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDenialsBounded: a session may try reconnecting with wrong proofs a
// few times, then it is cut off.
func TestDenialsBounded(t *testing.T) {
	f := newFixture(t, nil)
	sess := f.rawSession()
	defer sess.Close()
	r := frame.Reconnect{Name: "nobody"}
	p, _ := r.Marshal(false)
	for i := range maxDenials + 1 {
		if err := sess.WriteRequest(frame.ClientID{byte(i + 1)}, frame.CodeReconnect, p); err != nil {
			t.Fatal(err)
		}
		h, body, err := sess.ReadResponse()
		switch {
		case i < maxDenials-1 && (err != nil || h.Code != frame.CodeDenied):
			t.Fatalf("attempt %d: %v %v", i+1, h.Code, err)
		case i == maxDenials-1:
			if err != nil || h.Code != frame.CodeError || !bytes.Contains(body, []byte("refused authentications")) {
				t.Fatalf("attempt %d: %v %q %v, want the session ended", i+1, h.Code, body, err)
			}
			return
		}
	}
}
