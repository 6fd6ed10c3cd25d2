package client

import (
	"fmt"

	"ferry/frame"
)

// Usage is what the server stores for this client and how much room it
// has left.
type Usage struct {
	Files, Bytes int64
	Free         int64 // bytes left on the server's disk; -1 unknown
	MaxFile      int64 // the largest file the server accepts; -1 no limit known
}

// Usage asks the server for the client's usage (the shell's df).
func (c *Client) Usage() (Usage, error) {
	if err := c.needOps(); err != nil {
		return Usage{}, err
	}
	if err := c.sess.WriteMsg(frame.CodeUsage, nil); err != nil {
		return Usage{}, err
	}
	h, b, err := c.read()
	if err != nil {
		return Usage{}, err
	}
	if h.Code != frame.CodeUsageResp {
		_, err := c.final("df", "", h.Code, b)
		if err == nil {
			err = fmt.Errorf("client: unexpected %v to usage", h.Code)
		}
		return Usage{}, err
	}
	u, err := frame.ParseUsage(b)
	if err != nil {
		return Usage{}, fmt.Errorf("client: %w", err)
	}
	return Usage{Files: int64(u.Files), Bytes: int64(u.Bytes), Free: signed(u.Free), MaxFile: signed(u.MaxFile)}, nil
}

func signed(v uint64) int64 {
	if v > 1<<62 {
		return -1
	}
	return int64(v)
}
