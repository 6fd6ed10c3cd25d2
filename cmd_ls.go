package main

import (
	"fmt"
	"io"
	"path"
	"time"

	"ferry/client"
)

func runLs(args []string, stderr io.Writer) error {
	var f clientFlags
	var long, recursive bool
	fs := newFlags("ls", "[flags] [PATH]", stderr)
	f.register(fs)
	fs.BoolVar(&long, "l", false, "long format: mode, size, mtime, cksum, verified")
	fs.BoolVar(&recursive, "r", false, "list folders with everything in them")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(args) > 1 {
		fmt.Fprintln(stderr, "ferry ls: at most one PATH")
		return errUsage
	}
	paths, err := remotePaths("ls", append(args, "")[:1], stderr)
	if err != nil {
		return err
	}
	s, err := f.connect(stderr)
	if err != nil {
		return err
	}
	ents, err := s.List(paths[0], recursive)
	err = s.finish(err)
	for _, e := range ents {
		fmt.Fprintln(s.out, formatEntry(&e, paths[0], long, recursive))
	}
	return err
}

// formatEntry is one line of ls: the name (relative to the folder listed,
// folders ending in /), and with long the details before it, like ls -l.
func formatEntry(e *client.Entry, dir string, long, recursive bool) string {
	name := path.Base(e.Path)
	if recursive && dir != e.Path {
		name = relTo(dir, e.Path)
	}
	if e.Dir {
		name += "/"
	}
	if !long {
		return name
	}
	kind, mode := "-", e.Mode.Perm().String()[1:]
	if e.Dir {
		kind = "d"
	}
	mtime := "-"
	if !e.MTime.IsZero() {
		mtime = e.MTime.Local().Format(time.DateTime)
	}
	if e.Dir {
		return fmt.Sprintf("%s%s %12s %s %10s %s %s", kind, mode, "-", mtime, "-", " ", name)
	}
	verified := "unverified"
	if e.Verified {
		verified = "verified"
	}
	return fmt.Sprintf("%s%s %12d %s %10d %-10s %s", kind, mode, e.Size, mtime, e.Cksum, verified, name)
}

func relTo(dir, p string) string {
	if dir == "" {
		return p
	}
	return p[min(len(dir)+1, len(p)):]
}
