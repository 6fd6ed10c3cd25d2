package client

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"ferry/crypt"
	"ferry/frame"
)

// Resume (feature resume; docs/PROTOCOL.md §4.11). A large download is
// written to a partial file beside its target, .ferry-part-NAME, with
// .ferry-part-NAME.info saying which remote file it is (path, size,
// mtime), written first. A get cut off leaves both; the next get of the
// same file sends the SHA-256 of what the partial file holds (get-from),
// and the server sends only the rest when its file is still the same,
// everything otherwise. A large upload asks the server first what it holds
// of the file (resume-query), checks the hash it gets against its own
// start, and sends from there when they match. Either way the file end
// covers the whole file.

// DefaultResumeMin is the smallest file that is resumable: smaller ones
// move in one go (a chunk on most links) and gain nothing.
const DefaultResumeMin = 64 << 10

const (
	partPrefix = ".ferry-part-"
	partMagic  = "ferry partial download 1"
)

func (c *Client) resumeOn() bool {
	return !c.cfg.NoResume && c.sess.Features.Has(crypt.FeatureResume)
}

func (c *Client) resumeMin() int64 {
	if c.cfg.ResumeMin > 0 {
		return c.cfg.ResumeMin
	}
	return DefaultResumeMin
}

// heldStart is the start of a file held from an earlier transfer.
type heldStart struct {
	have   int64
	size   int64 // the source's size and mtime when it was fetched
	mtime  int64
	prefix [32]byte    // SHA-256 of the bytes held
	sum    frame.Cksum // their POSIX cksum
}

// partNames are the partial file and its info file for local.
func partNames(local string) (part, info string) {
	dir, name := path.Split(local)
	part = path.Join(dir, partPrefix+name)
	return part, part + ".info"
}

// findHeld reads the partial download of local, if there is one for
// remote, and hashes it.
func findHeld(root *os.Root, local, remote string) *heldStart {
	part, info := partNames(local)
	b, err := root.ReadFile(info)
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 4 || lines[0] != partMagic || lines[1] != remote {
		return nil
	}
	h := &heldStart{}
	if h.size, err = strconv.ParseInt(lines[2], 10, 64); err != nil {
		return nil
	}
	if h.mtime, err = strconv.ParseInt(lines[3], 10, 64); err != nil {
		return nil
	}
	f, err := root.Open(part)
	if err != nil {
		return nil
	}
	defer f.Close()
	sh := sha256.New()
	n, err := io.Copy(io.MultiWriter(sh, &h.sum), bufio.NewReader(f))
	if err != nil || n == 0 || n > h.size {
		return nil
	}
	h.have = n
	copy(h.prefix[:], sh.Sum(nil))
	return h
}

// target opens where a download goes: the partial file it resumes (at
// offset), a new partial file for a large file, or a temporary file.
func (c *Client) target(r *getReq, e *Entry, local string, offset int64) (*temp, error) {
	if offset > 0 {
		part, info := partNames(local)
		f, err := r.root.OpenFile(part, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, err
		}
		return &temp{root: r.root, name: part, info: info, f: f}, nil
	}
	if !c.resumeOn() || e.Size < c.resumeMin() || uint64(e.Size) == frame.SizeUnknown {
		return newTemp(r, local, e.Mode)
	}
	dir := path.Dir(local)
	if err := r.mkdirAll(dir); err != nil {
		return nil, err
	}
	part, info := partNames(local)
	mtime := int64(0)
	if !e.MTime.IsZero() {
		mtime = e.MTime.UnixNano()
	}
	desc := fmt.Sprintf("%s\n%s\n%d\n%d\n", partMagic, e.Path, e.Size, mtime)
	if err := writeRootFile(r.root, info, []byte(desc)); err != nil {
		return nil, err
	}
	f, err := r.root.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, e.Mode.Perm()|0o200)
	if err != nil {
		r.root.Remove(info)
		return nil, err
	}
	return &temp{root: r.root, name: part, info: info, f: f}, nil
}

func writeRootFile(root *os.Root, name string, b []byte) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// queryResume asks the server what it holds of each large item and, where
// the start of the local file is the same, records where to put from. The
// queries go out in groups, each group one round trip; none when the
// server said at authentication that it keeps no partial upload of ours.
func (c *Client) queryResume(items []PutItem) (map[*PutItem]*heldStart, error) {
	if !c.resumeOn() || c.noPartials {
		return nil, nil
	}
	var big []*PutItem
	var stats []os.FileInfo
	for i := range items {
		it := &items[i]
		if it.Reader != nil {
			continue
		}
		if st, err := os.Stat(it.Local); err == nil && st.Mode().IsRegular() && st.Size() >= c.resumeMin() {
			big, stats = append(big, it), append(stats, st)
		}
	}
	out := map[*PutItem]*heldStart{}
	const group = 64
	for start := 0; start < len(big); start += group {
		end := min(start+group, len(big))
		for i := start; i < end; i++ {
			q := frame.ResumeQuery{Size: uint64(stats[i].Size()), MTime: nanos(stats[i].ModTime()), Path: big[i].Remote}
			if err := c.sess.WriteMsg(frame.CodeResumeQuery, q.Marshal()); err != nil {
				return nil, err
			}
		}
		for i := start; i < end; i++ {
			h, b, err := c.read()
			if err != nil {
				return nil, err
			}
			if h.Code != frame.CodeResumeOffer {
				return nil, fmt.Errorf("client: unexpected %v to a resume query", h.Code)
			}
			o, err := frame.ParseResumeOffer(b)
			if err != nil {
				return nil, fmt.Errorf("client: %w", err)
			}
			if o.Have > 0 {
				if held := sameStart(big[i].Local, int64(o.Have), o.Prefix); held != nil {
					out[big[i]] = held
				}
			}
		}
	}
	return out, nil
}

// sameStart hashes the first have bytes of the local file and returns
// them as a held start when their SHA-256 is prefix.
func sameStart(local string, have int64, prefix [32]byte) *heldStart {
	f, err := os.Open(local)
	if err != nil {
		return nil
	}
	defer f.Close()
	h := &heldStart{have: have}
	sh := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(sh, &h.sum), bufio.NewReader(f), have); err != nil {
		return nil
	}
	if [32]byte(sh.Sum(nil)) != prefix {
		return nil
	}
	return h
}
