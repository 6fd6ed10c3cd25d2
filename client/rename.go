package client

import "ferry/frame"

// Rename renames the remote file or folder oldPath to newPath, replacing
// a file there unless noClobber. It reports whether it replaced one.
func (c *Client) Rename(oldPath, newPath string, noClobber bool) (replaced bool, err error) {
	r := frame.Rename{Old: oldPath, New: newPath}
	if noClobber {
		r.Flags |= frame.FlagNoClobber
	}
	d, err := c.simple("mv", frame.CodeRename, r.Marshal(), oldPath)
	return d.Flags&frame.DoneReplaced != 0, err
}
