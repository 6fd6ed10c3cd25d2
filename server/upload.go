package server

import (
	"errors"
	"fmt"
	"time"

	"ferry/frame"
	"ferry/fsstore"
	"ferry/xfer"
)

// ErrTooBig means an upload declared more bytes than the server accepts.
var ErrTooBig = errors.New("server: file larger than this server accepts")

// receive handles a 1028 and what follows it: the chunks, the 2103, the
// client's verdict, and any resends.
func (h *session) receive(p []byte) error {
	sf, err := frame.ParseSendFile(p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if sf.Size > uint64(h.srv.cfg.MaxFileSize) {
		return fmt.Errorf("%w: %d bytes declared, limit %d", ErrTooBig, sf.Size, h.srv.cfg.MaxFileSize)
	}
	// The first release's upload takes a plain name, never a path.
	if err := fsstore.ValidateName(sf.Name); err != nil {
		return err
	}
	up, err := h.srv.cfg.Store.NewUpload(h.client.ID, sf.Name)
	if err != nil {
		return err
	}
	defer up.Abort() // a no-op after Commit
	for resends := 0; ; resends++ {
		if err := h.receiveContent(up, sf.Size); err != nil {
			return err
		}
		verdict, err := h.offerChecksum(up, sf)
		if err != nil {
			return err
		}
		switch verdict {
		case frame.CodeChecksumOK:
			return h.commit(up, sf)
		case frame.CodeGiveUp:
			h.srv.cfg.Logf("client %s gave up on %q after %d resends", h.who(), sf.Name, resends)
			// Discard before acknowledging: after the 2104 nothing of the
			// file may remain.
			if err := up.Abort(); err != nil {
				return err
			}
			return h.WriteResponse(frame.CodeThanks, h.client.ID[:])
		}
		if resends == h.srv.cfg.MaxResends {
			return fmt.Errorf("%w: more than %d resends of %q", ErrProtocol, resends, sf.Name)
		}
		if err := h.expectResend(up, sf); err != nil {
			return err
		}
	}
}

// receiveContent writes the chunks of one transmission into up (package
// xfer; pipelined when the server's pool has a ring free).
func (h *session) receiveContent(up *fsstore.Upload, size uint64) error {
	rc := h.receiver(h.srv.pool)
	_, err := rc.Receive(h.Session, &xfer.Content{Codes: xfer.Upload, Size: int64(size), ClientID: h.client.ID}, up)
	return err
}

// offerChecksum sends the 2103 and returns the client's verdict.
func (h *session) offerChecksum(up *fsstore.Upload, sf frame.SendFile) (frame.Code, error) {
	sum := up.Sum()
	if h.srv.cfg.corrupt != nil {
		sum = h.srv.cfg.corrupt(sum)
	}
	fr := frame.FileReceived{ClientID: h.client.ID, Size: uint64(up.Size()), Name: sf.Name, Cksum: sum}
	b, err := fr.Marshal()
	if err != nil {
		return 0, err
	}
	if err := h.WriteResponse(frame.CodeFileReceived, b); err != nil {
		return 0, err
	}
	req, p, err := h.read()
	if err != nil {
		return 0, err
	}
	switch req.Code {
	case frame.CodeChecksumOK, frame.CodeChecksumBad, frame.CodeGiveUp:
	default:
		return 0, fmt.Errorf("%w: %v after 2103", ErrProtocol, req.Code)
	}
	if req.ClientID != h.client.ID {
		return 0, fmt.Errorf("%w: %v for client %s in the session of %s", ErrProtocol, req.Code, req.ClientID, frame.ClientID(h.client.ID))
	}
	if name, err := frame.ParseName(p); err != nil || name != sf.Name {
		return 0, fmt.Errorf("%w: verdict for %q while receiving %q", ErrProtocol, name, sf.Name)
	}
	return req.Code, nil
}

// expectResend reads the 1028 that follows a 1030 and empties the upload.
func (h *session) expectResend(up *fsstore.Upload, sf frame.SendFile) error {
	req, p, err := h.read()
	if err != nil {
		return err
	}
	again, err := frame.ParseSendFile(p)
	if req.Code != frame.CodeSendFile || err != nil || again != sf || req.ClientID != h.client.ID {
		return fmt.Errorf("%w: expected the resend of %q", ErrProtocol, sf.Name)
	}
	return up.Reset()
}

// commit makes the file durable and visible, then acknowledges it.
func (h *session) commit(up *fsstore.Upload, sf frame.SendFile) error {
	f, err := up.Commit(false, time.Now())
	if err != nil {
		return err
	}
	h.srv.cfg.Logf("client %s stored %q: %d bytes, cksum %d", h.who(), sf.Name, f.Size, f.Cksum)
	return h.WriteResponse(frame.CodeThanks, h.client.ID[:])
}
