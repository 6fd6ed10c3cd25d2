package client

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"ferry/frame"
	"ferry/xfer"
)

// A put streams file after file without waiting for the server: the
// server answers each (done, or failed) once it has checked the file end
// and committed, and a goroutine reads those answers as they come. So a
// tree of small files costs no round trip per file; at most putWindow
// files are unanswered at a time. A file whose checksum did not match is
// sent again, up to three times, after those already on their way.
//
//	caller: open, put + chunks + file end (one write per batch) ──> server
//	reader: <── done / failed, in order; settle the oldest unanswered file
//
// A put that ends the session (Last) sends the goodbye after its last
// file without waiting for the answers (ByeIfDone): the server says thanks
// right after them, or, when one failed, refuses it and the session goes
// on (resends, then Close's goodbye).

// putWindow bounds the files sent and not yet answered.
const putWindow = 64

// maxResends is how many times a file is sent again after a mismatch.
const maxResends = 3

// PutItem is one file to store.
type PutItem struct {
	Local     string    // the local file; unused with Reader
	Reader    io.Reader // a stream (stdin), read once: never resent
	Remote    string    // the path to store it under (CleanPath form)
	NoClobber bool      // refuse to replace an existing remote file
}

// PutResult is what became of one PutItem.
type PutResult struct {
	Item     *PutItem
	Size     int64
	Cksum    uint32
	Replaced bool // an existing remote file was replaced
	Resends  int
	Resumed  int64 // bytes the server held from an interrupted put, not sent again
	Duration time.Duration
	Err      error // nil: stored and verified
}

// inflight is a file sent and not yet answered.
type inflight struct {
	item    *PutItem
	from    *heldStart // where the server's copy stops, when it is the same start
	res     PutResult
	start   time.Time
	srcErr  error // reading the local file failed while sending
	settled bool  // no answer will come (never sent)
	bye     bool  // not a file: the goodbye sent ahead
}

// answer is a message the reader goroutine read.
type answer struct {
	code frame.Code
	b    []byte
	err  error
}

// Put stores items and calls done for each once it is settled (stored, or
// failed). Per-file failures (the server refused, a local read error, a
// checksum that never matched) are in the results; the error is the
// session's, and ends it.
func (c *Client) Put(items []PutItem, done func(PutResult)) error {
	if err := c.needOps(); err != nil {
		return err
	}
	held, err := c.queryResume(items)
	if err != nil {
		return err
	}
	c.sess.SetReadDeadline(time.Time{}) // answers may take long to come: await bounds the wait
	want := make(chan struct{}, putWindow+maxResends+1)
	answers := make(chan answer, putWindow+maxResends+1)
	go c.readAnswers(want, answers)
	defer close(want)
	var pending, retry []*inflight
	next := 0
	// bye: the goodbye goes after the last file (Last is for this Put
	// alone, whether or not it goes out)
	bye := c.last && c.byeIfDone
	c.last = false
	for next < len(items) || len(retry) > 0 || len(pending) > 0 {
		more := next < len(items) || len(retry) > 0 || bye
		if !more || len(pending) >= putWindow || len(answers) > 0 {
			a, err := c.await(answers)
			if err != nil {
				return err
			}
			fl := pending[0]
			pending = pending[1:]
			if fl.bye {
				// thanks: the session is over (no file failed, so none
				// is left); a refusal: it goes on
				c.byeDone = a.code == frame.CodeThanks
				continue
			}
			if again := c.settle(fl, a); again {
				retry = append(retry, fl)
				continue
			}
			done(fl.res)
			continue
		}
		var fl *inflight
		if len(retry) > 0 {
			fl, retry = retry[0], retry[1:]
			fl.res.Resends++
		} else if next < len(items) {
			fl = &inflight{item: &items[next], res: PutResult{Item: &items[next]}, from: held[&items[next]]}
			next++
		} else {
			fl, bye = &inflight{bye: true}, false
		}
		if err := c.sendPut(fl); err != nil {
			return err
		}
		if fl.settled {
			done(fl.res)
			continue
		}
		pending = append(pending, fl)
		want <- struct{}{}
	}
	return nil
}

// readAnswers is the reader goroutine: one answer read for each token on
// want, until want closes or the session fails.
func (c *Client) readAnswers(want <-chan struct{}, answers chan<- answer) {
	for range want {
		h, b, err := c.sess.ReadMsg()
		a := answer{code: h.Code, b: append([]byte(nil), b...), err: err}
		if err == nil && h.Code == frame.CodeError {
			a.err = fmt.Errorf("%w: %s", ErrServer, b)
		}
		answers <- a
		if a.err != nil {
			return
		}
	}
}

// await waits for the next answer, at most the timeout; a silent server
// ends the session.
func (c *Client) await(answers <-chan answer) (answer, error) {
	t := time.NewTimer(c.cfg.Timeout)
	defer t.Stop()
	select {
	case a := <-answers:
		return a, a.err
	case <-t.C:
		c.sess.Close()
		return answer{}, fmt.Errorf("client: no answer from the server in %v", c.cfg.Timeout)
	}
}

// sendPut opens the item's file and streams it. A local failure before
// anything was sent settles the item; the error is the session's.
func (c *Client) sendPut(fl *inflight) error {
	if fl.bye {
		return c.sess.WriteRequest(c.id.ID, frame.CodeBye, []byte{frame.ByeIfDone})
	}
	it := fl.item
	fl.start = time.Now()
	p := frame.Put{Size: frame.SizeUnknown, Mode: 0o644, MTime: time.Now().UnixNano(), Path: it.Remote}
	if it.NoClobber {
		p.Flags |= frame.FlagNoClobber
	}
	r := it.Reader
	size := int64(-1)
	var xf xfer.File
	if r == nil {
		f, st, err := openRegular(it.Local)
		if err != nil {
			fl.res.Err, fl.settled = err, true
			return nil
		}
		defer f.Close()
		r, size = f, st.Size()
		p.Size, p.Mode, p.MTime = uint64(size), modeOf(uint32(st.Mode().Perm())), nanos(st.ModTime())
		if fl.from != nil && fl.from.have <= size {
			if _, err := f.Seek(fl.from.have, io.SeekStart); err == nil {
				xf.Offset, xf.Prefix, p.Offset = fl.from.have, fl.from.sum, uint64(fl.from.have)
			}
		}
	}
	fl.res.Resumed = xf.Offset
	xf.Codes, xf.HeadCode, xf.Head, xf.End = xfer.Upload, frame.CodePut, p.Marshal(), true
	xf.Size = size
	if size >= 0 {
		xf.Size = size - xf.Offset
	}
	if xf.Offset > 0 && c.cfg.Resumed != nil {
		c.cfg.Resumed(it.Remote, xf.Offset, size)
	}
	if c.cfg.Progress != nil {
		xf.Progress = func(sent int64) { c.cfg.Progress(it.Remote, sent, size) }
	}
	n, sum, err := c.send.Send(c.sess, &xf, r)
	fl.res.Size, fl.res.Cksum = xf.Offset+n, sum
	if errors.Is(err, xfer.ErrSource) {
		fl.srcErr = err
		return nil
	}
	return err
}

// openRegular opens a local file that must be a regular file.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// settle applies the server's answer to the oldest unanswered file and
// reports whether to send it again.
func (c *Client) settle(fl *inflight, a answer) (again bool) {
	fl.res.Duration = time.Since(fl.start)
	d, err := c.final("put", fl.item.Remote, a.code, a.b)
	if err == nil {
		if d.Size != uint64(fl.res.Size) || d.Cksum != fl.res.Cksum {
			err = fmt.Errorf("client: the server stored %d bytes with cksum %d, %d bytes with cksum %d were sent", d.Size, d.Cksum, fl.res.Size, fl.res.Cksum)
		}
		fl.res.Replaced = d.Flags&frame.DoneReplaced != 0
		fl.res.Err = err
		return false
	}
	oe, isOp := errors.AsType[*OpError](err)
	switch {
	case isOp && oe.Reason == frame.FailResume && fl.from != nil:
		fl.from = nil // the server no longer holds the start: send it whole, not as a resend
		fl.res.Resends--
		return true
	case fl.srcErr != nil:
		fl.res.Err = fmt.Errorf("client: %s: %w", fl.item.Local, fl.srcErr)
	case isOp && oe.Reason == frame.FailChecksum && fl.item.Reader == nil && fl.res.Resends < maxResends:
		fl.from = nil // a resend is of the whole file
		return true
	case isOp && oe.Reason == frame.FailChecksum:
		fl.res.Err = fmt.Errorf("%w: %s", ErrChecksum, fl.item.Remote)
	default:
		fl.res.Err = err
	}
	return false
}
