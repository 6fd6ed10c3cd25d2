package client

import "ferry/frame"

// Remove removes the remote file p, or the empty folder p; with recursive,
// a folder and everything in it. It returns the number of files removed.
func (c *Client) Remove(p string, recursive bool) (int, error) {
	r := frame.PathReq{Path: p}
	if recursive {
		r.Flags |= frame.FlagRecursive
	}
	d, err := c.simple("rm", frame.CodeRemove, r.Marshal(), p)
	return int(d.Count), err
}
