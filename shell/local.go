package shell

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ferry/safe"
)

// The local commands work on the shell's local folder, which starts as
// the process's working folder; the process's own does not change.

// localPath resolves a local path the user wrote against the local
// folder; ~ at its start is the home folder.
func (s *Shell) localPath(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(s.lwd, p)
}

// showLocal names a local path in messages: relative to the local folder
// when it is inside it.
func (s *Shell) showLocal(p string) string {
	if rel, err := filepath.Rel(s.lwd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return p
}

func (s *Shell) lcd(c *call) error {
	p := c.arg(0)
	if p == "" {
		p = "~"
	}
	dir := s.localPath(p)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("lcd: %s: %v", p, errText(err))
	case !st.IsDir():
		return fmt.Errorf("lcd: %s: not a folder", p)
	}
	s.lwd = dir
	return nil
}

func (s *Shell) lpwd(*call) error {
	fmt.Fprintln(s.out, safe.Text(s.lwd))
	return nil
}

// lls lists a local folder (or names a file) as ls does a remote one.
func (s *Shell) lls(c *call) error {
	p := s.localPath(c.arg(0))
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("lls: %s: %v", c.arg(0), errText(err))
	}
	infos := []os.FileInfo{st}
	if st.IsDir() {
		ents, err := os.ReadDir(p)
		if err != nil {
			return fmt.Errorf("lls: %s: %v", c.arg(0), errText(err))
		}
		infos = infos[:0]
		for _, e := range ents {
			if fi, err := e.Info(); err == nil {
				infos = append(infos, fi)
			}
		}
	}
	var b strings.Builder
	for _, fi := range infos {
		b.WriteString(safe.Text(localLine(fi, c.has('l'))))
		b.WriteByte('\n')
	}
	s.out.Write([]byte(b.String()))
	return nil
}

// localLine is one line of lls: the name, folders ending in /, and with
// long the mode, size and mtime before it.
func localLine(fi os.FileInfo, long bool) string {
	name := fi.Name()
	if fi.IsDir() {
		name += "/"
	}
	if !long {
		return name
	}
	size := fmt.Sprint(fi.Size())
	if fi.IsDir() {
		size = "-"
	}
	return fmt.Sprintf("%s %12s %s %s", fi.Mode().String(), size, fi.ModTime().Local().Format(time.DateTime), name)
}
