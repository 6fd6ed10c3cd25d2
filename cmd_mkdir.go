package main

import (
	"fmt"
	"io"
)

func runMkdir(args []string, stderr io.Writer) error {
	var f clientFlags
	var parents bool
	fs := newFlags("mkdir", "[flags] PATH...", stderr)
	f.register(fs)
	fs.BoolVar(&parents, "p", false, "make missing parents too, and take an existing folder")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	paths, err := remotePaths("mkdir", args, stderr)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "ferry mkdir: no PATH given")
		return errUsage
	}
	s, err := f.connect(stderr)
	if err != nil {
		return err
	}
	var sum summary
	for _, p := range paths {
		if err := s.Mkdir(p, parents); err != nil {
			if !isOpError(err) {
				return s.finish(err)
			}
			fmt.Fprintf(stderr, "ferry: %v\n", err)
			sum.failed++
		}
	}
	if err := s.finish(nil); err != nil {
		return err
	}
	return sum.err()
}
