package link

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigurn/crc16"
)

var update = flag.Bool("update", false, "rewrite testdata/frames.txt")

func TestCRCCheckValues(t *testing.T) {
	check := []byte("123456789")
	if got := crc16.Checksum(check, crc16Table); got != 0x29B1 {
		t.Errorf("CRC-16/CCITT-FALSE = %#04x, want 0x29b1", got)
	}
	if got := crc32.Checksum(check, crc32Table); got != 0xE3069283 {
		t.Errorf("CRC-32C = %#08x, want 0xe3069283", got)
	}
}

// vector is one line of testdata/frames.txt:
// name sid dir type seq ack payload-hex frame-hex ("-" for empty).
type vector struct {
	name          string
	sid           uint32
	dir           byte
	typ, seq, ack uint8
	payload       []byte
	frame         []byte
	fec           bool // keyed frame with parity; the name ends in "-fec"
}

var vectors = []vector{
	{name: "syn", typ: typeSyn, payload: []byte("FLNK\x01\x78\x56\x34\x12")},
	{name: "synack", typ: typeSynAck, payload: []byte("FLNK\x01\x78\x56\x34\x12")},
	{name: "nosession", typ: typeNoSession},
	{name: "data", sid: 0x12345678, dir: dirClient, typ: typeData, seq: 7, ack: 3, payload: []byte("hello, ferry")},
	{name: "ack-sack", sid: 0x12345678, dir: dirServer, typ: typeAck, seq: 3, ack: 7, payload: []byte{0x06}},
	{name: "poll", sid: 0x12345678, dir: dirClient, typ: typePoll, seq: 8, ack: 3},
	{name: "fin", sid: 0x12345678, dir: dirClient, typ: typeFin, seq: 8, ack: 3},
	{name: "rst", sid: 0x12345678, dir: dirServer, typ: typeRst, seq: 3, ack: 9},
	{name: "syn-fec", typ: typeSyn, payload: []byte("FLNK\x01\x78\x56\x34\x12\x02")},
	{name: "synack-fec", typ: typeSynAck, payload: []byte("FLNK\x01\x78\x56\x34\x12\x02")},
	{name: "data-fec", sid: 0x12345678, dir: dirClient, typ: typeData, seq: 7, ack: 3, payload: []byte("hello, ferry"), fec: true},
	{name: "ack-sack-fec", sid: 0x12345678, dir: dirServer, typ: typeAck, seq: 3, ack: 7, payload: []byte{0x06}, fec: true},
	// A long DATA frame (type 5, length field 4100-4086 = 14): 4100
	// bytes of "ferry " repeated.
	{name: "data-long-fec", sid: 0x12345678, dir: dirClient, typ: typeData, seq: 9, ack: 3, payload: bytes.Repeat([]byte("ferry "), 700)[:4100], fec: true},
}

func (v vector) key() uint32 {
	if !keyed(v.typ) {
		return 0
	}
	return sessionKey(v.sid, v.dir)
}

func hexOrDash(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func TestFrameVectors(t *testing.T) {
	var buf [MaxFrame]byte
	if *update {
		var out bytes.Buffer
		out.WriteString("# name sid dir type seq ack payload frame (hex; - = empty). See docs/LINK.md.\n")
		for _, v := range vectors {
			f := putFrame(buf[:], header{typ: v.typ, seq: v.seq, ack: v.ack}, v.payload, v.key(), v.fec)
			dir := "-"
			if v.dir != 0 {
				dir = string(v.dir)
			}
			fmt.Fprintf(&out, "%s %08x %s %d %d %d %s %s\n", v.name, v.sid, dir, v.typ, v.seq, v.ack, hexOrDash(v.payload), hex.EncodeToString(f))
		}
		if err := os.WriteFile("testdata/frames.txt", out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range readVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			f := putFrame(buf[:], header{typ: v.typ, seq: v.seq, ack: v.ack}, v.payload, v.key(), v.fec)
			if !bytes.Equal(f, v.frame) {
				t.Fatalf("encoded\n%x\nwant\n%x", f, v.frame)
			}
			var d decoder
			d.setKey(v.key(), v.fec)
			d.w = copy(d.space(), append([]byte("noise\x9e"), v.frame...))
			h, p, ok := d.next()
			if !ok || h.typ != v.typ || h.seq != v.seq || h.ack != v.ack || !bytes.Equal(p, v.payload) {
				t.Fatalf("decoded %+v %x %v", h, p, ok)
			}
		})
	}
}

func readVectors(t *testing.T) []vector {
	f, err := os.Open("testdata/frames.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 8 {
			t.Fatalf("bad vector line %q", line)
		}
		num := func(s string, base, bits int) uint64 {
			n, err := strconv.ParseUint(s, base, bits)
			if err != nil {
				t.Fatalf("bad number in %q: %v", line, err)
			}
			return n
		}
		bin := func(s string) []byte {
			if s == "-" {
				return nil
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				t.Fatalf("bad hex in %q: %v", line, err)
			}
			return b
		}
		v := vector{name: fs[0], sid: uint32(num(fs[1], 16, 32)),
			typ: uint8(num(fs[3], 10, 8)), seq: uint8(num(fs[4], 10, 8)), ack: uint8(num(fs[5], 10, 8)),
			payload: bin(fs[6]), frame: bin(fs[7]), fec: strings.HasSuffix(fs[0], "-fec") && keyed(uint8(num(fs[3], 10, 8)))}
		if fs[2] != "-" {
			v.dir = fs[2][0]
		}
		vs = append(vs, v)
	}
	return vs
}

// Every corruption of a single bit, and every truncation, is rejected.
func TestDecoderRejects(t *testing.T) {
	var buf [MaxFrame]byte
	key := sessionKey(1, dirClient)
	f := putFrame(buf[:], header{typ: typeData, seq: 1, ack: 2}, []byte("some payload bytes"), key, false)
	for bit := 0; bit < len(f)*8; bit++ {
		g := bytes.Clone(f)
		g[bit/8] ^= 1 << (bit % 8)
		var d decoder
		d.setKey(key, false)
		d.w = copy(d.space(), g)
		if _, _, ok := d.next(); ok {
			t.Fatalf("accepted a frame with bit %d flipped", bit)
		}
	}
	var d decoder
	d.setKey(sessionKey(2, dirClient), false)
	d.w = copy(d.space(), f)
	if _, _, ok := d.next(); ok {
		t.Fatal("accepted a frame of another session")
	}
}

// With parity every frame with up to fecT flipped bits anywhere decodes to
// the frame sent; without it, or with more flips, none is accepted that
// differs from it.
func TestDecoderRepairs(t *testing.T) {
	var buf [MaxFrame]byte
	key := sessionKey(1, dirClient)
	payload := bytes.Repeat([]byte("some payload bytes "), 50)
	f := putFrame(buf[:], header{typ: typeData, seq: 1, ack: 2}, payload, key, true)
	decode := func(g []byte, fec bool) ([]byte, bool) {
		var d decoder
		d.setKey(key, fec)
		d.w = copy(d.space(), g)
		_, p, ok := d.next()
		return p, ok
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for flips := 1; flips <= fecT+4; flips++ {
		for range 40 {
			g := bytes.Clone(f)
			hit := map[int]bool{}
			for len(hit) < flips {
				b := HeaderSize*8 + rng.IntN((len(f)-HeaderSize)*8) // the header has its own CRC
				hit[b] = true
				g[b/8] ^= 1 << (b % 8)
			}
			p, ok := decode(g, true)
			if flips <= fecT && (!ok || !bytes.Equal(p, payload)) {
				t.Fatalf("%d flips at %v: not repaired", flips, hit)
			}
			if ok && !bytes.Equal(p, payload) {
				t.Fatalf("%d flips at %v: accepted a wrong payload", flips, hit)
			}
			if _, ok := decode(g[:len(g)-FECSize], false); ok {
				t.Fatalf("%d flips: accepted without parity", flips)
			}
		}
	}
	// A decoder that expects parity refuses a frame without it.
	if _, ok := decode(f[:len(f)-FECSize], true); ok {
		t.Fatal("a decoder with parity accepted a frame without it")
	}
}

// A DATA frame of more than MaxPayload bytes goes as type 5 in a session with
// FEC, decodes as DATA there, and is refused anywhere else: a decoder
// without parity, a length past MaxLongPayload, another type.
func TestLongFrames(t *testing.T) {
	var buf [MaxFrame]byte
	key := sessionKey(1, dirClient)
	for _, n := range []int{MaxPayload + 1, 4096, 5000, MaxLongPayload} {
		payload := bytes.Repeat([]byte{byte(n)}, n)
		f := putFrame(buf[:], header{typ: typeData, seq: 4, ack: 5}, payload, key, true)
		if len(f) != n+Overhead+FECSize || len(f) > MaxFrame || 8*len(f) > fecMaxBits {
			t.Fatalf("n=%d: frame of %d bytes", n, len(f))
		}
		if typ := f[2] >> 4; typ != typeDataLong {
			t.Fatalf("n=%d: sent as type %d", n, typ)
		}
		for _, fec := range []bool{true, false} {
			var d decoder
			d.setKey(key, fec)
			d.w = copy(d.space(), f)
			h, p, ok := d.next()
			if fec && (!ok || h.typ != typeData || h.seq != 4 || !bytes.Equal(p, payload)) {
				t.Fatalf("n=%d: decoded %+v %v", n, h, ok)
			}
			if !fec && ok {
				t.Fatalf("n=%d: accepted without FEC", n)
			}
		}
	}
	// Only DATA may be long, only with parity, and at most MaxLongPayload.
	for _, c := range []struct {
		typ uint8
		n   int
		fec bool
	}{{typeData, MaxPayload + 1, false}, {typeAck, MaxPayload + 1, true}, {typeData, MaxLongPayload + 1, true}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("putFrame(%d bytes, type %d, fec %v) did not refuse", c.n, c.typ, c.fec)
				}
			}()
			putFrame(buf[:], header{typ: c.typ}, make([]byte, c.n), key, c.fec)
		}()
	}
	// A type 5 header whose length says more than MaxLongPayload.
	var h [HeaderSize]byte
	h[0] = Sync
	binary.LittleEndian.PutUint16(h[1:3], typeDataLong<<12|uint16(MaxLongPayload-MaxPayload))
	binary.LittleEndian.PutUint16(h[5:7], crc16.Checksum(h[:5], crc16Table))
	if _, ok := parseHeader(h[:], true); ok {
		t.Fatal("accepted a long header past MaxLongPayload")
	}
	binary.LittleEndian.PutUint16(h[1:3], typeDataLong<<12|uint16(MaxLongPayload-MaxPayload-1))
	binary.LittleEndian.PutUint16(h[5:7], crc16.Checksum(h[:5], crc16Table))
	if hd, ok := parseHeader(h[:], true); !ok || hd.n != MaxLongPayload || hd.typ != typeData {
		t.Fatalf("refused the longest header: %+v %v", hd, ok)
	}
	if _, ok := parseHeader(h[:], false); ok {
		t.Fatal("accepted a long header without FEC")
	}
}

// A header that passes its CRC inside garbage must not hide the frame
// behind it while it waits for a payload that never comes.
func TestDecoderFalseHeader(t *testing.T) {
	var buf, fb [MaxFrame]byte
	key := sessionKey(1, dirClient)
	// A valid header claiming 4000 bytes, and no payload.
	fake := putFrame(fb[:], header{typ: typeData, seq: 9}, make([]byte, 4000), key, false)[:HeaderSize]
	f := putFrame(buf[:], header{typ: typeAck, seq: 1, ack: 2}, nil, key, false)
	var d decoder
	d.setKey(key, false)
	d.w = copy(d.space(), append(bytes.Clone(fake), f...))
	h, _, ok := d.next()
	if !ok || h.typ != typeAck {
		t.Fatalf("got %+v %v, want the ack behind the false header", h, ok)
	}
}

func FuzzDecoder(f *testing.F) {
	var buf [MaxFrame]byte
	key := sessionKey(7, dirServer)
	f.Add(putFrame(buf[:], header{typ: typeData, seq: 1, ack: 2}, []byte("payload"), key, false), false)
	f.Add(putFrame(buf[:], header{typ: typeSyn}, []byte("FLNK\x01abcd"), 0, false), false)
	f.Add([]byte("login: \x9e\x00\x10"), false)
	g := putFrame(buf[:], header{typ: typeData, seq: 1, ack: 2}, []byte("payload"), key, true)
	g[12] ^= 0x21
	f.Add(g, true)
	f.Fuzz(func(t *testing.T, in []byte, fec bool) {
		var d decoder
		d.setKey(key, fec)
		for len(in) > 0 {
			n := copy(d.space(), in)
			in = in[n:]
			d.w += n
			for {
				h, p, ok := d.next()
				if !ok {
					break
				}
				// Round trip: a decoded frame encodes to the same bytes.
				k := uint32(0)
				if keyed(h.typ) {
					k = key
				}
				withFEC := fec && keyed(h.typ)
				g := putFrame(buf[:], h, p, k, withFEC)
				if withFEC {
					if fecRemainder(0, g) != 0 {
						t.Fatalf("parity of %+v wrong", h)
					}
					g = g[:len(g)-FECSize]
				}
				if h2, p2, ok := parseAndCheck(g, k); !ok || h2 != h || !bytes.Equal(p2, p) {
					t.Fatalf("round trip of %+v failed", h)
				}
			}
		}
	})
}

func parseAndCheck(b []byte, key uint32) (header, []byte, bool) {
	h, ok := parseHeader(b, true)
	if !ok || len(b) != HeaderSize+h.n+TrailerSize || !checkTrailer(b, key) {
		return header{}, nil, false
	}
	return h, b[HeaderSize : HeaderSize+h.n], true
}

func TestWireAllocs(t *testing.T) {
	var buf [MaxFrame]byte
	payload := make([]byte, 1024)
	key := sessionKey(1, dirClient)
	var d decoder
	d.setKey(key, false)
	allocs := testing.AllocsPerRun(100, func() {
		f := putFrame(buf[:], header{typ: typeData, seq: 1, ack: 2}, payload, key, false)
		d.w += copy(d.space(), f)
		if _, _, ok := d.next(); !ok {
			t.Fatal("frame not decoded")
		}
	})
	if allocs != 0 {
		t.Errorf("encode+decode: %v allocs, want 0", allocs)
	}
}

// The steady-state ARQ loop, from Write through both muxes and back,
// allocates nothing.
var timeNow = time.Now

func TestARQAllocs(t *testing.T) {
	mc := newMux(nil, PortConfig{}, false)
	ms := newMux(nil, PortConfig{}, true)
	c := newSession(mc, 42, true)
	s := newSession(ms, 42, false)
	mc.cur, ms.cur = c, s
	mc.dec.setKey(sessionKey(42, dirServer), false)
	ms.dec.setKey(sessionKey(42, dirClient), false)
	data := make([]byte, 3000)
	out := make([]byte, 4000)
	deliver := func(from, to *mux) {
		from.mu.Lock()
		b, _ := from.nextFrame(timeNow())
		from.mu.Unlock()
		if b != nil {
			to.dec.w += copy(to.dec.space(), b)
			to.handleFrames()
		}
	}
	step := func() {
		c.sendQ.write(data)
		for i := 0; i < 4; i++ {
			deliver(mc, ms)
			deliver(ms, mc)
		}
		s.recvQ.read(out)
		s.deliver()
	}
	for i := 0; i < 600; i++ { // warm up every slot
		step()
	}
	if allocs := testing.AllocsPerRun(200, step); allocs != 0 {
		t.Errorf("ARQ step: %v allocs, want 0", allocs)
	}
	if c.sendQ.n > 0 && c.inflightBytes == 0 {
		t.Error("nothing moved")
	}
}
