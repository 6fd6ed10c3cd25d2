package server

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"ferry/crypt"
	"ferry/frame"
	"ferry/fsstore"
	"ferry/xfer"
)

// put handles 1035 and the content that follows it: the file is written
// to a temporary file, checked against the client's file end, and only
// then committed (durably, atomically) under its path; the answer is a
// done with the stored size and cksum, or a failed (checksum: the client
// sends it again). A put that is refused before its content is read still
// reads the content to its end, since the client streams without waiting.
func (h *session) put(p []byte) error {
	pr, err := frame.ParsePut(p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	size := int64(pr.Size)
	if pr.Size == frame.SizeUnknown {
		size = -1
	} else if pr.Size > uint64(h.srv.cfg.MaxFileSize) {
		return h.refusePut(pr, size, fmt.Errorf("%w: %d bytes declared, limit %d", ErrTooBig, pr.Size, h.srv.cfg.MaxFileSize))
	}
	if err := writable(pr.Path); err != nil {
		return h.refusePut(pr, size, err)
	}
	var up *fsstore.Upload
	err = h.withRoom(func() (err error) { up, err = h.newUpload(pr); return err })
	if err != nil {
		return h.refusePut(pr, size, err)
	}
	defer up.Abort() // a no-op after a commit or Keep
	up.SetMeta(os.FileMode(pr.Mode)&0o775, timeOf(pr.MTime))
	start := time.Now()
	offset := int64(pr.Offset)
	if size >= 0 {
		size -= offset
	}
	rc := h.receiver(h.srv.pool)
	res, err := rc.ReceiveFile(h.Session, &xfer.Content{Codes: xfer.Upload, Size: size, Offset: offset, Limit: h.srv.cfg.MaxFileSize, WriterSum: up.Sum, ClientID: h.client.ID}, up)
	if h.srv.cfg.corrupt != nil {
		res.Sum = h.srv.cfg.corrupt(res.Sum)
	}
	switch {
	case errors.Is(err, xfer.ErrSink):
		return h.failOp("put", pr.Path, err)
	case err != nil:
		if up.Keep() == nil && h.resumable(pr.Size) {
			h.srv.cfg.Logf("client %s put %q cut off after %d of %d bytes: kept for resume", h.who(), pr.Path, offset+res.N, pr.Size)
		}
		return err
	case res.Changed():
		return h.failOp("put", pr.Path, &opError{reason: frame.FailIncomplete, text: "the client could not read the whole file; nothing stored"})
	case !res.OK():
		h.srv.cfg.Logf("client %s put %q: checksum mismatch (%d bytes, cksum %d; client says %d, %d)", h.who(), pr.Path, res.N, res.Sum, res.End.Size, res.End.Cksum)
		return h.failOp("put", pr.Path, &opError{reason: frame.FailChecksum, text: "checksum mismatch; send it again"})
	}
	var f fsstore.File
	var replaced bool
	err = h.withRoom(func() (err error) {
		f, replaced, err = up.CommitWith(fsstore.CommitOptions{NoClobber: pr.Flags&frame.FlagNoClobber != 0, Now: time.Now()})
		return err
	})
	if err != nil {
		return h.failOp("put", pr.Path, err)
	}
	d := frame.Done{Count: 1, Size: uint64(f.Size), Cksum: f.Cksum}
	result := "ok"
	if replaced {
		d.Flags |= frame.DoneReplaced
		result = "replaced"
	}
	if offset > 0 {
		result += fmt.Sprintf(", resumed at %d", offset)
	}
	h.files++
	h.bytes += f.Size - offset
	h.op("put", pr.Path, 1, f.Size-offset, start, result)
	return h.doneHeld(d)
}

// errResumeLost: a put from an offset the server does not hold (the
// partial upload expired, or another session took it over).
var errResumeLost = &opError{reason: frame.FailResume, text: "the server no longer holds the start of this file; send it whole"}

// newUpload opens the upload of a put: resumable when the file is large
// and the client speaks resume (from its offset, which must be what the
// server holds; from zero otherwise), a plain one for the rest.
func (h *session) newUpload(pr frame.Put) (*fsstore.Upload, error) {
	if !h.resumable(pr.Size) {
		if pr.Offset != 0 {
			return nil, errResumeLost
		}
		return h.srv.cfg.Store.NewUpload(h.client.ID, pr.Path)
	}
	up := h.takePending(pr.Path)
	if up == nil {
		var err error
		if up, err = h.srv.cfg.Store.NewResumable(h.client.ID, pr.Path, int64(pr.Size), timeOf(pr.MTime)); err != nil {
			return nil, err
		}
	}
	have, _ := up.Resumed()
	switch {
	case pr.Offset == 0 && have > 0:
		// the client's start differs, or it asked for a fresh transfer
		if err := up.Reset(); err != nil {
			up.Abort()
			return nil, err
		}
	case pr.Offset != uint64(have):
		up.Keep()
		return nil, errResumeLost
	}
	return up, nil
}

// refusePut reads the refused file's content to its end, then answers.
func (h *session) refusePut(pr frame.Put, size int64, why error) error {
	if size >= 0 {
		size -= int64(pr.Offset)
	}
	rc := h.receiver(nil)
	if _, err := rc.ReceiveFile(h.Session, &xfer.Content{Codes: xfer.Upload, Size: size, Offset: int64(pr.Offset), ClientID: h.client.ID}, io.Discard); err != nil {
		return err
	}
	return h.failOp("put", pr.Path, why)
}

func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// receiver is the session's Receiver, pipelined with a ring of pool (nil:
// a frame at a time).
func (h *session) receiver(pool *xfer.Pool) *xfer.Receiver {
	if h.srv.cfg.SlowLink {
		pool = nil
	}
	h.recv.Pool, h.recv.Idle, h.recv.Compressed = pool, h.srv.cfg.IdleTimeout, h.Features.Has(crypt.FeatureCompress)
	return &h.recv
}
