package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"

	"ferry/fsstore"
)

// published is the folder that ferry serve -publish offers, read-only, to
// every authenticated client as pub/. It is read through an os.Root, so no
// path a client sends, nor a symlink in the folder, leads outside it; a
// symlink is not followed at all, and only folders and regular files with
// names the store would accept are shown.
type published struct {
	root *os.Root
}

// openPublished opens dir for publishing.
func openPublished(dir string) (*published, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("server: publish %s: %w", dir, err)
	}
	return &published{root: r}, nil
}

// name is rel's path as clients see it.
func pubPath(rel string) string { return path.Join(pubDir, rel) }

// stat describes rel ("" is the folder itself).
func (p *published) stat(rel string) (fsstore.Entry, error) {
	if rel != "" {
		if err := fsstore.ValidatePath(rel); err != nil {
			return fsstore.Entry{}, err
		}
	}
	st, err := p.root.Lstat(cmpOr(rel, "."))
	if err != nil {
		return fsstore.Entry{}, fsstore.ErrNotFound
	}
	return pubEntry(rel, st)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func pubEntry(rel string, st fs.FileInfo) (fsstore.Entry, error) {
	e := fsstore.Entry{Path: pubPath(rel), MTime: st.ModTime()}
	switch {
	case st.IsDir():
		e.Dir, e.Mode = true, 0o755
	case st.Mode().IsRegular():
		e.Size, e.Mode = st.Size(), st.Mode().Perm()&0o755
	default:
		return e, fsstore.ErrNotFound // symlinks, devices, sockets: not published
	}
	return e, nil
}

// list lists rel: a folder's entries (recursive: its tree, each folder
// before its content), or a file's one entry.
func (p *published) list(rel string, recursive bool) ([]fsstore.Entry, error) {
	e, err := p.stat(rel)
	if err != nil {
		return nil, err
	}
	if !e.Dir {
		return []fsstore.Entry{e}, nil
	}
	var out []fsstore.Entry
	return out, p.walk(rel, recursive, &out)
}

func (p *published) walk(rel string, recursive bool, out *[]fsstore.Entry) error {
	d, err := p.root.Open(cmpOr(rel, "."))
	if err != nil {
		return fsstore.ErrNotFound
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return cmpStr(a.Name(), b.Name()) })
	for _, de := range ents {
		if fsstore.ValidateName(de.Name()) != nil {
			continue
		}
		child := path.Join(rel, de.Name())
		st, err := de.Info()
		if err != nil {
			continue
		}
		e, err := pubEntry(child, st)
		if err != nil {
			continue
		}
		*out = append(*out, e)
		if e.Dir && recursive {
			if err := p.walk(child, true, out); err != nil {
				return err
			}
		}
	}
	return nil
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// open opens the published file rel for reading.
func (p *published) open(rel string) (*os.File, fsstore.Entry, error) {
	e, err := p.stat(rel)
	if err != nil {
		return nil, e, err
	}
	if e.Dir {
		return nil, e, fsstore.ErrIsDir
	}
	f, err := p.root.OpenFile(rel, os.O_RDONLY|syscallNoFollow, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fsstore.ErrNotFound
		}
		return nil, e, err
	}
	return f, e, nil
}
