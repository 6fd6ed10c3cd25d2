package shell

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"ferry/client"
	"ferry/frame"
	"ferry/progress"
	"ferry/safe"
)

// The remote commands: each resolves its paths against the remote folder
// (client.JoinPath), calls one client method per path and prints what it
// got. Every change clears the listings kept for completion.

// remotePath resolves a path the user wrote against the remote folder.
func (s *Shell) remotePath(p string) (string, error) {
	r, err := client.JoinPath(s.cwd, p)
	if err != nil {
		return "", usageErr("%s: %v", p, err)
	}
	return r, nil
}

// display names a remote path in messages, from the top: "/logs/x".
func display(p string) string { return "/" + p }

// listDir lists the remote folder p and keeps the listing for completion;
// a file is an error.
func (s *Shell) listDir(p string) ([]client.Entry, error) {
	ents, err := s.cl.List(p, false)
	if err != nil {
		return nil, lost(err)
	}
	if len(ents) == 1 && ents[0].Path == p && !ents[0].Dir && p != "" {
		return nil, fmt.Errorf("%s: not a folder", display(p))
	}
	if s.cache == nil {
		s.cache = make(map[string][]client.Entry)
	}
	s.cache[p] = ents
	return ents, nil
}

// isFolder reports whether the remote path p is a folder; a path that
// does not exist is not one.
func (s *Shell) isFolder(p string) (bool, error) {
	if p == "" {
		return true, nil
	}
	_, err := s.listDir(p)
	oe, isOp := errors.AsType[*client.OpError](err)
	_, isLost := errors.AsType[*LostError](err)
	switch {
	case err == nil:
		return true, nil
	case isOp && (oe.Reason == frame.FailNotFound || oe.Reason == frame.FailNotDir):
		return false, nil
	case isOp, isLost:
		return false, err
	}
	return false, nil // a file
}

// knownFolder says, from the listings kept, whether the remote path p is
// a folder, if they tell.
func (s *Shell) knownFolder(p string) (dir, known bool) {
	if _, ok := s.cache[p]; ok {
		return true, true
	}
	parent := path.Dir(p)
	if parent == "." {
		parent = ""
	}
	ents, ok := s.cache[parent]
	if !ok {
		return false, false
	}
	for _, e := range ents {
		if e.Path == p {
			return e.Dir, true
		}
	}
	return false, true // not there: a new name
}

// changed forgets the listings: the remote side changed.
func (s *Shell) changed() { s.cache = nil }

func (s *Shell) ls(c *call) error {
	p, err := s.remotePath(c.arg(0))
	if err != nil {
		return err
	}
	recursive := c.has('r')
	var ents []client.Entry
	if recursive {
		ents, err = s.cl.List(p, true)
		err = lost(err)
	} else {
		ents, err = s.cl.List(p, false)
		if err = lost(err); err == nil && !(len(ents) == 1 && ents[0].Path == p && !ents[0].Dir) {
			s.listed(p, ents)
		}
	}
	var b strings.Builder
	for i := range ents {
		b.WriteString(safe.Text(s.format(&ents[i], p, c.has('l'), recursive)))
		b.WriteByte('\n')
	}
	s.out.Write([]byte(b.String()))
	return err
}

// listed keeps the listing of the folder p.
func (s *Shell) listed(p string, ents []client.Entry) {
	if s.cache == nil {
		s.cache = make(map[string][]client.Entry)
	}
	s.cache[p] = ents
}

// format is one line of ls.
func (s *Shell) format(e *client.Entry, dir string, long, recursive bool) string {
	if s.cfg.Format != nil {
		return s.cfg.Format(e, dir, long, recursive)
	}
	name := path.Base(e.Path)
	if recursive && e.Path != dir {
		name = strings.TrimPrefix(strings.TrimPrefix(e.Path, dir), "/")
	}
	if e.Dir {
		name += "/"
	}
	return name
}

func (s *Shell) cd(c *call) error {
	p, err := s.remotePath(c.arg(0))
	if err != nil {
		return err
	}
	if len(c.args) == 0 {
		p = "" // the top, as cd goes home
	}
	if _, err := s.listDir(p); err != nil {
		return prefix("cd", err)
	}
	s.cwd = p
	return nil
}

// prefix names the command in an error that does not name it already.
func prefix(cmd string, err error) error {
	if isOpError(err) || needsSession(err) {
		return err
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

func (s *Shell) pwd(*call) error {
	fmt.Fprintln(s.out, safe.Text(display(s.cwd)))
	return nil
}

func (s *Shell) rm(c *call) error {
	for _, a := range c.args {
		p, err := s.remotePath(a)
		if err != nil {
			return err
		}
		if p == "" {
			return usageErr("rm: not the top folder")
		}
		n, err := s.cl.Remove(p, c.has('r'))
		s.changed()
		if err != nil {
			return lost(err)
		}
		if s.cfg.Verbose {
			fmt.Fprintf(s.out, "removed %s (%d files)\n", safe.Text(display(p)), n)
		}
	}
	return nil
}

func (s *Shell) mv(c *call) error {
	from, err := s.remotePath(c.args[0])
	if err != nil {
		return err
	}
	to, err := s.remotePath(c.args[1])
	if err != nil {
		return err
	}
	if strings.HasSuffix(c.args[1], "/") {
		to = path.Join(to, path.Base(from))
	}
	replaced, err := s.cl.Rename(from, to, c.has('n'))
	s.changed()
	if err != nil {
		return lost(err)
	}
	if s.cfg.Verbose || replaced {
		how := ""
		if replaced {
			how = " (it replaced a file there)"
		}
		fmt.Fprintf(s.out, "renamed %s to %s%s\n", safe.Text(display(from)), safe.Text(display(to)), how)
	}
	return nil
}

func (s *Shell) mkdir(c *call) error {
	for _, a := range c.args {
		p, err := s.remotePath(a)
		if err != nil {
			return err
		}
		err = s.cl.Mkdir(p, c.has('p'))
		s.changed()
		if err != nil {
			return lost(err)
		}
	}
	return nil
}

func (s *Shell) df(*call) error {
	u, err := s.cl.Usage()
	if err != nil {
		return lost(err)
	}
	free, largest := "unknown", "no limit"
	if u.Free >= 0 {
		free = progress.FormatBytes(u.Free)
	}
	if u.MaxFile >= 0 {
		largest = progress.FormatBytes(u.MaxFile)
	}
	fmt.Fprintf(s.out, "files         %d\nbytes         %s (%d)\nfree          %s\nlargest file  %s\n",
		u.Files, progress.FormatBytes(u.Bytes), u.Bytes, free, largest)
	return nil
}
