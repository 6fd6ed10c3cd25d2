package client

import (
	"fmt"
	"io"
	"os"
	"time"

	"ferry/frame"
	"ferry/xfer"
)

// Result describes a stored file.
type Result struct {
	Name     string // the name it is stored under
	Size     int64
	Cksum    uint32 // POSIX cksum, as computed by both sides
	Resends  int
	Duration time.Duration
}

// Upload sends the file at path, stored under name, and returns once the
// server has confirmed that it is stored (2104 after 1029).
func (c *Client) Upload(path, name string) (Result, error) {
	start := time.Now()
	f, err := openFile(path)
	if err != nil {
		return Result{}, fmt.Errorf("client: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("client: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Result{}, fmt.Errorf("client: %s is not a regular file", path)
	}
	res := Result{Name: name, Size: st.Size()}
	sf := frame.SendFile{Size: uint64(st.Size()), Name: name}
	req, err := sf.Marshal()
	if err != nil {
		return res, fmt.Errorf("client: file name %q: %w", name, err)
	}
	for ; ; res.Resends++ {
		if err := c.sess.WriteRequest(c.id.ID, frame.CodeSendFile, req); err != nil {
			return res, err
		}
		sum, err := c.sendContent(f, name, st.Size())
		if err != nil {
			return res, err
		}
		ok, err := c.checkReceipt(sf, sum)
		if err != nil {
			return res, err
		}
		res.Cksum = sum
		if ok {
			res.Duration = time.Since(start)
			return res, c.verdict(frame.CodeChecksumOK, name)
		}
		if res.Resends == 3 {
			if err := c.verdict(frame.CodeGiveUp, name); err != nil {
				return res, err
			}
			return res, ErrChecksum
		}
		if err := c.sendName(frame.CodeChecksumBad, name); err != nil {
			return res, err
		}
	}
}

// sendContent streams the file from its start as chunks (package xfer)
// and returns its cksum. The first release's upload has no file end.
func (c *Client) sendContent(f *os.File, name string, size int64) (uint32, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	xf := xfer.File{Codes: xfer.Upload, Size: size}
	if c.cfg.Progress != nil {
		xf.Progress = func(sent int64) { c.cfg.Progress(name, sent, size) }
	}
	_, sum, err := c.send.Send(c.sess, &xf, f)
	if err != nil {
		// A source error ended the content early: the server refuses the
		// short file and ends the session.
		return 0, fmt.Errorf("client: %w", err)
	}
	return sum, nil
}

// checkReceipt reads the 2103 and compares it with what was sent.
func (c *Client) checkReceipt(sf frame.SendFile, sum uint32) (bool, error) {
	h, p, err := c.read()
	if err != nil {
		return false, err
	}
	if h.Code != frame.CodeFileReceived {
		return false, fmt.Errorf("client: unexpected %v after the file", h.Code)
	}
	fr, err := frame.ParseFileReceived(p)
	if err != nil {
		return false, fmt.Errorf("client: %w", err)
	}
	if fr.Name != sf.Name || fr.ClientID != c.id.ID {
		return false, fmt.Errorf("client: receipt for %q of client %s, expected %q", fr.Name, fr.ClientID, sf.Name)
	}
	return fr.Size == sf.Size && fr.Cksum == sum, nil
}

func (c *Client) sendName(code frame.Code, name string) error {
	p, err := frame.NamePayload(name)
	if err != nil {
		return err
	}
	return c.sess.WriteRequest(c.id.ID, code, p)
}

// verdict sends 1029 or 1031 and waits for the 2104.
func (c *Client) verdict(code frame.Code, name string) error {
	if err := c.sendName(code, name); err != nil {
		return err
	}
	h, _, err := c.read()
	if err != nil {
		return err
	}
	if h.Code != frame.CodeThanks {
		return fmt.Errorf("client: unexpected %v after %v", h.Code, code)
	}
	return nil
}
