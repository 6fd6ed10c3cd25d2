package server

import (
	"context"
	"testing"
	"time"

	"ferry/client"
	"ferry/crypt"
	"ferry/frame"
	"ferry/link"
)

// TestCompactRequests: with feature short, the requests after the
// authentication carry the 7-byte header (16 bytes fewer each on the wire
// than without the feature), the server attributes them to the session's
// client, and a second authentication in the session is refused.
func TestCompactRequests(t *testing.T) {
	f := newFixture(t, nil)
	// requestBytes connects, stores one file, and counts the bytes 10
	// usage requests put on the link.
	requestBytes := func(name string, omit crypt.Features) (int64, *client.Client) {
		raw, err := link.Dial(context.Background(), f.addr)
		if err != nil {
			t.Fatal(err)
		}
		cl := &cutLink{Conn: raw}
		c, err := client.Connect(cl, client.Config{
			State: client.State{Dir: t.TempDir()}, Server: f.addr, Name: name, Omit: omit,
			Verify: crypt.CAVerifier(f.roots, "127.0.0.1"), Chunk: 4096, Timeout: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		src, _ := randomFile(t, 100)
		putAll(t, c, []client.PutItem{{Local: src, Remote: name + ".bin"}})
		before := cl.wrote.Load()
		for range 10 {
			u, err := c.Usage()
			if err != nil || u.Files != 1 {
				t.Fatalf("%s: usage %+v, %v: want this client's one file", name, u, err)
			}
		}
		return cl.wrote.Load() - before, c
	}
	full, c1 := requestBytes("full", crypt.FeatureShort)
	c1.Close()
	compact, c := requestBytes("compact", 0)
	defer c.Close()
	if !c.Session().Features.Has(crypt.FeatureShort) {
		t.Fatal("feature short not negotiated")
	}
	if full-compact != 10*(frame.RequestHeaderSize-frame.ResponseHeaderSize) {
		t.Errorf("10 requests took %d bytes with full headers and %d compact: want %d fewer", full, compact, 10*16)
	}
	r := frame.Reconnect{Name: "compact"}
	p, _ := r.Marshal(true)
	c.Session().WriteRequest(c.ID(), frame.CodeReconnect, p)
	expectProtocolError(t, c, "already authenticated")
}
