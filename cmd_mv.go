package main

import (
	"fmt"
	"io"
)

func runMv(args []string, stderr io.Writer) error {
	var f clientFlags
	var noClobber bool
	fs := newFlags("mv", "[flags] OLD NEW", stderr)
	f.register(fs)
	fs.BoolVar(&noClobber, "n", false, "never replace a file at NEW (no clobber)")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(args) != 2 {
		fmt.Fprintln(stderr, "ferry mv: needs OLD and NEW")
		return errUsage
	}
	paths, err := remotePaths("mv", args, stderr)
	if err != nil {
		return err
	}
	s, err := f.connect(stderr)
	if err != nil {
		return err
	}
	replaced, err := s.Rename(paths[0], paths[1], noClobber)
	if err == nil && f.verbose {
		how := ""
		if replaced {
			how = " (replaced it)"
		}
		fmt.Fprintf(s.out, "renamed %s to %s%s\n", paths[0], paths[1], how)
	}
	return s.finish(err)
}
