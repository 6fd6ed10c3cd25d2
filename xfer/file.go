package xfer

import (
	"errors"
	"fmt"
	"io"
	"time"

	"ferry/frame"
)

// Result is what the receiver of a file found.
type Result struct {
	Offset int64         // bytes held before the content (resumed)
	N      int64         // content bytes received
	Sum    uint32        // their POSIX cksum, as the receiver computed it
	End    frame.FileEnd // what the sender said it sent
	Time   time.Duration // from the first chunk to the file end
}

// OK reports whether the file arrived whole and intact: the sender read it
// to its end, and size and cksum match on both sides.
func (r *Result) OK() bool {
	return r.End.Status == frame.EndComplete && r.End.Size == uint64(r.Offset+r.N) && r.End.Cksum == r.Sum
}

// Changed reports whether the sender could not read its file to the end.
func (r *Result) Changed() bool { return r.End.Status == frame.EndChanged }

// ReceiveFile receives one file of the operations protocol: its content
// into w, then the sender's file end. Whether the file is good is
// Result.OK: the caller keeps it or drops it, and answers (put) or asks
// again (get). The error is the session's (it must end), or wraps ErrSink
// when only w failed (the session is in step).
func (rc *Receiver) ReceiveFile(c Conn, f *Content, w io.Writer) (Result, error) {
	start := time.Now()
	var own frame.Cksum
	g := *f
	g.Short = true
	if g.Sum == nil && g.WriterSum == nil {
		g.Sum = &own
	}
	n, err := rc.Receive(c, &g, w)
	res := Result{Offset: f.Offset, N: n}
	if err != nil && !isSink(err) {
		return res, err
	}
	end, rerr := rc.readEnd(c, f.Codes, f.ClientID)
	if rerr != nil {
		return res, rerr
	}
	res.End, res.Time = end, time.Since(start)
	switch {
	case g.WriterSum != nil:
		res.Sum = g.WriterSum()
	default:
		res.Sum = g.Sum.Sum32()
	}
	if f.Size >= 0 && uint64(n) != uint64(f.Size) && end.Status != frame.EndChanged {
		return res, fmt.Errorf("%w: last chunk after %d of %d bytes", ErrProtocol, n, f.Size)
	}
	return res, err
}

func isSink(err error) bool { return errors.Is(err, ErrSink) }

// readEnd reads the file end that follows the last chunk.
func (rc *Receiver) readEnd(c Conn, codes Codes, id frame.ClientID) (frame.FileEnd, error) {
	if len(rc.buf) < c.ReadBufSize() {
		rc.buf = make([]byte, c.ReadBufSize())
	}
	rc.deadline(c)
	h, p, err := c.ReadMsgInto(rc.buf)
	if err != nil {
		return frame.FileEnd{}, fmt.Errorf("xfer: waiting for the file end: %w", err)
	}
	if h.ClientID != id {
		return frame.FileEnd{}, fmt.Errorf("%w: file end for client %s in the file of %s", ErrProtocol, h.ClientID, id)
	}
	if h.Code != codes.End {
		return frame.FileEnd{}, fmt.Errorf("%w: %v where the file end belongs", ErrProtocol, h.Code)
	}
	e, err := frame.ParseFileEnd(p)
	if err != nil {
		return e, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return e, nil
}
