package main

import (
	"fmt"
	"io"
)

func runRm(args []string, stderr io.Writer) error {
	var f clientFlags
	var recursive bool
	fs := newFlags("rm", "[flags] PATH...", stderr)
	f.register(fs)
	fs.BoolVar(&recursive, "r", false, "remove folders with everything in them")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	paths, err := remotePaths("rm", args, stderr)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "ferry rm: no PATH given")
		return errUsage
	}
	s, err := f.connect(stderr)
	if err != nil {
		return err
	}
	var sum summary
	for _, p := range paths {
		n, err := s.Remove(p, recursive)
		if err != nil {
			if !isOpError(err) {
				return s.finish(err)
			}
			fmt.Fprintf(stderr, "ferry: %v\n", err)
			sum.failed++
			continue
		}
		if f.verbose {
			fmt.Fprintf(s.out, "removed %s (%d files)\n", displayRemote(p), n)
		}
	}
	if err := s.finish(nil); err != nil {
		return err
	}
	return sum.err()
}
