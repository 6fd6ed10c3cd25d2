package client

import "ferry/frame"

// Mkdir makes the remote folder p (with parents, its missing parents too).
func (c *Client) Mkdir(p string, parents bool) error {
	r := frame.PathReq{Path: p}
	if parents {
		r.Flags |= frame.FlagRecursive
	}
	_, err := c.simple("mkdir", frame.CodeMkdir, r.Marshal(), p)
	return err
}
