package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Pieces. The gzipped binary goes in pieces named by their offset and
// length ("0000016384-8192"), so that the device's file names sort in
// order and a resumed install knows what each kept piece is. A piece's
// size follows the line: it halves after a damaged piece (down to
// minPiece) and doubles after four good ones in a row (up to maxPiece), so
// that a clean line carries large pieces (little overhead per piece) and a
// noisy one small pieces (little to resend).
const (
	minPiece   = 1 << 10
	startPiece = 8 << 10
	maxPiece   = 32 << 10
	maxFails   = 12 // damaged pieces in a row before giving up
	maxRounds  = 6  // listings of the pieces that still find something missing

	// inFlight is about what may still be on its way to the device when a
	// write returns: an OS and a USB adapter's buffers.
	inFlight = 8 << 10
)

// piece is a range of the compressed binary.
type piece struct{ off, n int }

func (p piece) name() string { return fmt.Sprintf("%010d-%d", p.off, p.n) }

// parsePiece reads a name from fyL: "0000016384-8192.b".
func parsePiece(name string) (piece, bool) {
	o, n, ok := strings.Cut(strings.TrimSuffix(name, ".b"), "-")
	off, err1 := strconv.Atoi(o)
	size, err2 := strconv.Atoi(n)
	return piece{off, size}, ok && err1 == nil && err2 == nil && len(o) == 10 && off >= 0 && size > 0
}

// transfer puts gz on the device as pieces of transfer id, then joins them
// into the destination and checks the result against binSum.
func (s *session) transfer(ctx context.Context, gz []byte, id string, binSum [32]byte, in info) error {
	if err := s.set(id); err != nil {
		return err
	}
	ls, err := s.list(gz, s.opt.Fresh)
	if err != nil {
		return err
	}
	var have int64
	for _, p := range ls.kept {
		have += int64(p.n)
	}
	s.res.Kept = have
	if have > 0 {
		s.logf("%d bytes of %d kept on the device from an earlier install", have, len(gz))
	}
	if err := s.checkSpace(in, int64(len(gz))-have); err != nil {
		return err
	}
	if s.opt.Progress != nil {
		s.opt.Progress(have, int64(len(gz)))
	}
	start := time.Now()
	for round := 0; ; round++ {
		gs := gaps(ls.kept, len(gz))
		if len(gs) == 0 && ls.clean {
			break
		}
		if round == maxRounds {
			return fmt.Errorf("%w: pieces went missing after they arrived (decoding failed? no space left in the folder of %s?)", ErrDevice, s.opt.Dest)
		}
		for _, g := range gs {
			if err := s.sendRange(ctx, gz, g); err != nil {
				return err
			}
		}
		if ls, err = s.list(gz, false); err != nil {
			return err
		}
	}
	err = s.join(binSum)
	s.res.Elapsed = time.Since(start)
	return err
}

// set tells the device the transfer's id.
func (s *session) set(id string) error {
	want := "set " + s.opt.Dest + " " + id
	var got string
	for try := 0; try < 3; try++ { // a reply that line noise changed is asked again
		var err error
		if got, err = s.askLine("fyS", s.opt.Dest, id); err != nil || got == want {
			return err
		}
	}
	return fmt.Errorf("%w: fyS answered %q", ErrDevice, got)
}

// askLine is ask for a one-line reply.
func (s *session) askLine(fn string, args ...string) (string, error) {
	var err error
	for try := 0; try < 3; try++ {
		if try > 0 {
			if err := s.resync(); err != nil {
				return "", err
			}
		}
		var n int
		if n, err = s.call(fn, args...); err != nil {
			return "", err
		}
		var l string
		if l, err = s.c.reply(s.soon(0), n); err == nil {
			return l, nil
		}
	}
	return "", err
}

// listing is what fyL says of the decoded pieces on the device.
type listing struct {
	kept  []piece // pieces of gz, checked, in order, not overlapping
	clean bool    // every line was understood: nothing else is there
}

// list asks the device for its decoded pieces (fyL; with fresh it removes
// them instead) and checks them against gz. A line that does not match
// may be a bad piece or line noise on the listing: that piece is asked
// about alone (fyQ), and removed only if it is wrong twice. A line that
// cannot be read makes the listing unclean: the next one tells. Pieces
// that overlap earlier ones (an earlier install with other sizes) are
// removed.
func (s *session) list(gz []byte, fresh bool) (listing, error) {
	lines, err := s.ask(func() time.Time { return s.deadline(0) }, "fyL", boolArg(fresh))
	if err != nil {
		return listing{}, err
	}
	ls := listing{clean: true}
	var kept []piece
	for _, l := range lines {
		f := strings.Fields(l)
		p, ok := piece{}, len(f) >= 3 && f[0] == "p"
		if ok {
			p, ok = parsePiece(f[1])
		}
		switch {
		case !ok || p.off+p.n > len(gz):
			ls.clean = false
		case f[2] == p.sum(gz):
			kept = append(kept, p)
		default:
			good, err := s.checkPiece(gz, p)
			if err != nil {
				return ls, err
			}
			if good {
				kept = append(kept, p)
			}
		}
	}
	slices.SortFunc(kept, func(a, b piece) int { return a.off - b.off })
	end := 0
	for _, p := range kept {
		if p.off < end {
			if err := s.remove(p); err != nil {
				return ls, err
			}
			continue
		}
		ls.kept = append(ls.kept, p)
		end = p.off + p.n
	}
	return ls, nil
}

// sum is the sha256 of the piece's bytes, in hex.
func (p piece) sum(gz []byte) string {
	h := sha256.Sum256(gz[p.off : p.off+p.n])
	return hex.EncodeToString(h[:])
}

// checkPiece asks the device for the sha256 of one piece; wrong twice, the
// piece is removed.
func (s *session) checkPiece(gz []byte, p piece) (bool, error) {
	for try := 0; try < 2; try++ {
		l, err := s.askLine("fyQ", p.name()+".b")
		if err != nil {
			return false, err
		}
		if h, _, _ := strings.Cut(l, " "); h == p.sum(gz) {
			return true, nil
		}
	}
	return false, s.remove(p)
}

// remove removes a decoded piece on the device.
func (s *session) remove(p piece) error {
	_, err := s.askLine("fyZ", p.name()+".b")
	return err
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// gaps returns the ranges of [0, size) that the kept pieces (sorted, not
// overlapping) do not cover.
func gaps(kept []piece, size int) []piece {
	var out []piece
	pos := 0
	for _, p := range kept {
		if p.off > pos {
			out = append(out, piece{pos, p.off - pos})
		}
		pos = p.off + p.n
	}
	if pos < size {
		out = append(out, piece{pos, size - pos})
	}
	return out
}

// checkSpace refuses an install that would fill the destination's folder:
// the pieces still to send, then the binary beside them while it is joined.
func (s *session) checkSpace(in info, toSend int64) error {
	if in.freeKiB < 0 {
		s.logf("the device did not say how much space is free in %s; trying anyway", s.opt.Dest)
		return nil
	}
	need := (toSend+s.res.Size)/1024 + 64
	if in.freeKiB < need {
		return fmt.Errorf("%w: the install needs %d KiB in the folder of %s, the device has %d KiB free there; free some space or choose another -dest",
			ErrNoSpace, need, s.opt.Dest, in.freeKiB)
	}
	return nil
}

// sendRange sends the range g of gz in pieces.
func (s *session) sendRange(ctx context.Context, gz []byte, g piece) error {
	fails := 0
	for pos := g.off; pos < g.off+g.n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := piece{pos, min(s.pieceSize(), g.off+g.n-pos)}
		ok, err := s.sendPiece(gz, p)
		if err != nil {
			return err
		}
		s.res.Pieces++
		if !ok {
			s.res.Resent++
			if fails++; fails >= maxFails {
				return fmt.Errorf("%w: %d damaged pieces in a row: is the line that noisy (baud rate, cable)?", ErrDevice, fails)
			}
			s.shrink()
			continue
		}
		fails = 0
		s.grow()
		pos += p.n
		if s.opt.Progress != nil {
			s.opt.Progress(int64(pos), int64(len(gz)))
		}
	}
	return nil
}

// sendPiece types fyP, waits until it reads, types the piece and the end
// line, and returns whether the device found its sha256 right. A reply
// that does not come is an error only if the shell is lost too.
func (s *session) sendPiece(gz []byte, p piece) (bool, error) {
	text := encode(nil, gz[p.off:p.off+p.n])
	sum := sha256.Sum256(captured(text)) // what sed writes on the device
	n, err := s.call("fyP", fmt.Sprintf("%010d", p.off), strconv.Itoa(p.n), hex.EncodeToString(sum[:]))
	if err != nil {
		return false, err
	}
	if err := s.ready(n, s.soon(128)); err != nil {
		return false, s.resync()
	}
	if err := s.c.send(string(text) + ending); err != nil {
		return false, err
	}
	got, err := s.c.reply(s.soon(inFlight), n)
	if isTimeout(err) {
		// The end line may have been damaged: send it again, once.
		if err := s.c.send(ending); err != nil {
			return false, err
		}
		got, err = s.c.reply(time.Now().Add(2*time.Second+s.airtime(64)), n)
	}
	switch {
	case err != nil:
		return false, s.resync()
	case got == "ok":
		return true, nil
	case got == "err":
		return false, fmt.Errorf("%w: could not write piece %s in the folder of %s (full?)", ErrDevice, p.name(), s.opt.Dest)
	}
	return false, nil // "bad", or a reply that line noise changed: send it again
}

// captured is text as the device's sed writes it: without the line prefixes.
func captured(text []byte) []byte {
	b := make([]byte, 0, len(text))
	for i, c := range text {
		if c != linePrefix || i > 0 && text[i-1] != '\n' {
			b = append(b, c)
		}
	}
	return b
}

// join has the device join the pieces and check the whole binary. A reply
// that does not come or that line noise changed is checked by asking what
// the device has at the destination.
func (s *session) join(binSum [32]byte) error {
	want := hex.EncodeToString(binSum[:])
	n, err := s.call("fyJ", want)
	if err != nil {
		return err
	}
	d := s.deadline(int(s.res.Size)) // gunzip and awk on a slow CPU
	got, err := s.c.reply(d.Add(time.Duration(s.res.Size/(64<<10))*time.Second), n)
	switch {
	case err == nil && got == "ok":
		return nil
	case err == nil && strings.HasPrefix(got, "bad "):
		return fmt.Errorf("%w: the binary on the device has sha256 %s, not %s", ErrVerify, strings.TrimPrefix(got, "bad "), want)
	case err == nil && (got == "gunzip" || got == "err"):
		return fmt.Errorf("%w: joining the pieces failed (%s): no space left in the folder of %s?", ErrDevice, got, s.opt.Dest)
	}
	if err != nil && !isTimeout(err) {
		return err
	}
	if err != nil {
		if err := s.resync(); err != nil {
			return err
		}
	}
	in, err := s.info()
	if err != nil {
		return err
	}
	if in.have != want {
		return fmt.Errorf("%w: joining the pieces did not answer, and the device does not have the binary", ErrDevice)
	}
	return nil
}

// pieceSize, shrink and grow are the adaptive piece size.
func (s *session) pieceSize() int {
	if s.size == 0 {
		s.size = startPiece
		if s.opt.Baud == 0 {
			s.size = maxPiece
		}
	}
	return s.size
}

func (s *session) shrink() {
	s.size = max(minPiece, s.pieceSize()/2)
	s.streak = 0
}

func (s *session) grow() {
	if s.streak++; s.streak >= 4 {
		s.size = min(maxPiece, s.pieceSize()*2)
		s.streak = 0
	}
}
