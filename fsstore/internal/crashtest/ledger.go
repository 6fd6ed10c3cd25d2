package crashtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"ferry/frame"
	"ferry/fsstore"
)

type fileID struct {
	client [16]byte
	name   string
}

type version struct {
	size  int64
	cksum uint32
	sha   [32]byte
}

type clientAck struct {
	name string
	key  []byte
}

// Ledger remembers what writers acknowledged. Not safe for concurrent use.
type Ledger struct {
	clients  map[[16]byte]clientAck
	attempts map[fileID]map[int]version // every version a writer began to commit
	acked    map[fileID]int             // latest acknowledged version
	fresh    map[fileID]bool            // acknowledged since the last Verify
	Acks     int                        // acknowledgements read
}

// NewLedger returns an empty Ledger.
func NewLedger() *Ledger {
	return &Ledger{
		clients:  make(map[[16]byte]clientAck),
		attempts: make(map[fileID]map[int]version),
		acked:    make(map[fileID]int),
		fresh:    make(map[fileID]bool),
	}
}

// Feed reads writer output. A last line without its newline is ignored.
func (l *Ledger) Feed(r io.Reader) error {
	data, err := io.ReadAll(r)
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		data = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if perr := l.line(strings.Fields(sc.Text())); perr != nil {
			return fmt.Errorf("crashtest: %q: %w", sc.Text(), perr)
		}
	}
	return err
}

func (l *Ledger) line(f []string) error {
	if len(f) < 4 {
		return fmt.Errorf("short line")
	}
	var id [16]byte
	if n, err := hex.Decode(id[:], []byte(f[1])); err != nil || n != 16 {
		return fmt.Errorf("bad client id")
	}
	switch {
	case f[0] == "R":
		key, err := hex.DecodeString(f[3])
		l.clients[id] = clientAck{f[2], key}
		l.Acks++
		return err
	case f[0] == "B" && len(f) == 7:
		return l.begin(fileID{id, f[2]}, f[3:])
	case f[0] == "A":
		v, err := strconv.Atoi(f[3])
		fid := fileID{id, f[2]}
		if _, ok := l.attempts[fid][v]; !ok || err != nil {
			return fmt.Errorf("ack without begin")
		}
		l.acked[fid] = max(l.acked[fid], v)
		l.fresh[fid] = true
		l.Acks++
		return nil
	}
	return fmt.Errorf("unknown line")
}

func (l *Ledger) begin(fid fileID, f []string) error {
	v, err1 := strconv.Atoi(f[0])
	size, err2 := strconv.ParseInt(f[1], 10, 64)
	sum, err3 := strconv.ParseUint(f[2], 10, 32)
	sha, err4 := hex.DecodeString(f[3])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(sha) != 32 {
		return fmt.Errorf("bad begin line")
	}
	if l.attempts[fid] == nil {
		l.attempts[fid] = make(map[int]version)
	}
	l.attempts[fid][v] = version{size, uint32(sum), [32]byte(sha)}
	return nil
}

// Verify opens the store in dir and checks every acknowledgement: clients
// present with their name and key; files listed as verified with the size
// and cksum of the acknowledged version or a later attempt, and, for files
// acknowledged since the last call (all of them with full), bytes on disk
// identical to that version. It also checks that every file of a known
// client listed as verified has exactly the recorded bytes. It returns the
// violations; err is set when the store does not open.
func (l *Ledger) Verify(dir string, full bool) (lost []string, err error) {
	s, err := fsstore.Open(dir, fsstore.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	for id, c := range l.clients {
		got, ok := s.Client(id)
		if !ok || got.Name != c.name || !bytes.Equal(got.PublicKey, c.key) {
			lost = append(lost, fmt.Sprintf("client %x %s: acknowledged, found %v %+v", id, c.name, ok, got))
			continue
		}
		if full || l.hasFresh(id) {
			lost = append(lost, l.checkListed(s, id)...)
		}
	}
	for fid, v := range l.acked {
		if p := l.checkAcked(s, fid, v, full || l.fresh[fid]); p != "" {
			lost = append(lost, p)
		}
	}
	clear(l.fresh)
	return lost, nil
}

func (l *Ledger) hasFresh(id [16]byte) bool {
	for fid := range l.fresh {
		if fid.client == id {
			return true
		}
	}
	return false
}

// checkAcked checks one acknowledged file.
func (l *Ledger) checkAcked(s *fsstore.Store, fid fileID, acked int, bytesToo bool) string {
	f, ok := s.File(fid.client, fid.name)
	if !ok || !f.Verified {
		return fmt.Sprintf("file %x/%s v%d: acknowledged, listed %v %+v", fid.client, fid.name, acked, ok, f)
	}
	for v, ver := range l.attempts[fid] {
		if v < acked || ver.size != f.Size || ver.cksum != f.Cksum {
			continue
		}
		if !bytesToo {
			return ""
		}
		data, err := os.ReadFile(filepath.Join(s.Dir(), filepath.FromSlash(f.Path)))
		if err == nil && sha256.Sum256(data) == ver.sha {
			return ""
		}
	}
	return fmt.Sprintf("file %x/%s v%d: listed %+v matches no acknowledged or later version", fid.client, fid.name, acked, f)
}

// checkListed checks that the verified files of a client have the recorded
// bytes.
func (l *Ledger) checkListed(s *fsstore.Store, id [16]byte) []string {
	var bad []string
	for _, f := range s.Files(id) {
		if !f.Verified {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.Dir(), filepath.FromSlash(f.Path)))
		var ck frame.Cksum
		ck.Write(data)
		if err != nil || ck.Size() != f.Size || ck.Sum32() != f.Cksum {
			bad = append(bad, fmt.Sprintf("file %s listed as verified %+v but disk has %d bytes cksum %d (%v)", f.Path, f, ck.Size(), ck.Sum32(), err))
		}
	}
	return bad
}
