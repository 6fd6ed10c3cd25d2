package server

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"ferry/frame"
	"ferry/fsstore"
)

// The operations (feature ops): each is one file here named like its
// message (op_put.go, op_get.go, ...). Every request is answered by one
// done or one failed, in order; a failure ends the operation, not the
// session. The reasons a client sees are the short list below; the detail
// of an internal failure goes to the log only, since it can carry the
// server's paths.

// pubDir is the top folder under which every client sees the server's
// published folder (read-only).
const pubDir = "pub"

// opError is a failure to report in a 2109.
type opError struct {
	reason uint16
	text   string
	detail error // for the log only
}

func (e *opError) Error() string { return e.text }

// failure maps an error of an operation to what the client is told.
func failure(err error) *opError {
	if oe, ok := errors.AsType[*opError](err); ok {
		return oe
	}
	for _, m := range failures {
		if errors.Is(err, m.err) {
			return &opError{reason: m.reason, text: m.text, detail: err}
		}
	}
	if fsstore.IsDiskFull(err) {
		return &opError{reason: frame.FailDiskFull, text: "server disk full", detail: err}
	}
	if errors.Is(err, fsstore.ErrBadName) {
		return &opError{reason: frame.FailBadPath, text: "path not allowed: " + badPathWhy(err), detail: err}
	}
	return &opError{reason: frame.FailInternal, text: "the server could not do it (see its log)", detail: err}
}

var failures = []struct {
	err    error
	reason uint16
	text   string
}{
	{fsstore.ErrNotFound, frame.FailNotFound, "no such file or folder"},
	{os.ErrNotExist, frame.FailNotFound, "no such file or folder"},
	{fsstore.ErrExists, frame.FailExists, "already exists"},
	{fsstore.ErrIsDir, frame.FailIsDir, "is a folder"},
	{fsstore.ErrNotDir, frame.FailNotDir, "not a folder"},
	{fsstore.ErrNotEmpty, frame.FailNotEmpty, "folder not empty"},
	{fsstore.ErrDiskFull, frame.FailDiskFull, "server disk full"},
	{ErrTooBig, frame.FailTooLarge, "file larger than this server accepts"},
}

// badPathWhy keeps the reason of a path error (after its last colon),
// which names the rule, not the server's paths.
func badPathWhy(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// failOp answers a request with a 2109 and logs it.
func (h *session) failOp(op, p string, err error) error {
	oe := failure(err)
	result := "refused: " + oe.text
	if oe.detail != nil && oe.reason == frame.FailInternal {
		result = "failed: " + oe.detail.Error()
	}
	h.op(op, p, 0, 0, time.Now(), result)
	h.failed = true
	f := frame.Failed{Reason: oe.reason, Text: oe.text}
	return h.WriteResponse(frame.CodeFailed, f.Marshal())
}

// done answers a request with a 2108.
func (h *session) done(d frame.Done) error {
	return h.WriteResponse(frame.CodeDone, d.Marshal())
}

// holdMax bounds the answers kept back (about 20 dones): the client's
// window refills while its next files are read.
const holdMax = 1 << 10

// doneHeld answers a put with a 2108 written later, with the answers of
// the puts already waiting (read, before a wait for the client, flushes
// it): one write, and one wake-up of the client, for several files.
func (h *session) doneHeld(d frame.Done) error {
	h.Hold(frame.CodeDone, d.Marshal())
	if h.Held() >= holdMax {
		return h.Flush()
	}
	return nil
}

var errReadOnly = &opError{reason: frame.FailReadOnly, text: "pub/ is the server's published folder: read-only"}

// inPub reports whether p is in the published folder, and its path there.
func inPub(p string) (string, bool) {
	switch {
	case p == pubDir:
		return "", true
	case strings.HasPrefix(p, pubDir+"/"):
		return p[len(pubDir)+1:], true
	}
	return "", false
}

// writable checks a path a client wants to change.
func writable(p string) error {
	if _, ok := inPub(p); ok {
		return errReadOnly
	}
	if p == "" {
		return &opError{reason: frame.FailBadPath, text: "path not allowed: the root folder"}
	}
	return fsstore.ValidatePath(p)
}

// parsePathReq decodes a path request (frame.ParsePathReq, fuzzed by
// frame's FuzzOps); a malformed one is a protocol error: the session ends.
func parsePathReq(p []byte) (frame.PathReq, error) {
	r, err := frame.ParsePathReq(p)
	if err != nil {
		return r, protocolError(err)
	}
	return r, nil
}

// protocolError marks a malformed payload: the session ends.
func protocolError(err error) error { return fmt.Errorf("%w: %v", ErrProtocol, err) }

// withRoom runs fn, and when it fails for want of file descriptors (a
// flood of connections at the descriptor limit), drops handshakes to free
// some and runs it again, a few times: an authenticated client's work goes
// before idle connections.
func (h *session) withRoom(fn func() error) error {
	if h.pressed {
		// descriptors were short a moment ago: make room first, since a
		// step that fails half-way (a commit) cannot always be tried again
		for range 3 {
			h.srv.makeRoom()
		}
	}
	err := fn()
	for i := 0; i < 4 && outOfDescriptors(err) && h.srv.makeRoom(); i++ {
		h.pressed = true
		err = fn()
	}
	return err
}
