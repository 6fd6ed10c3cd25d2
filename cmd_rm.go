package main

import (
	"fmt"
	"io"
)

func runRm(args []string, stderr io.Writer) error {
	var recursive bool
	return eachPath("rm", "remove folders with everything in them", &recursive, "r", args, stderr,
		func(s *session, p string) error {
			n, err := s.Remove(p, recursive)
			if err == nil && s.verbose {
				fmt.Fprintf(s.out, "removed %s (%d files)\n", displayRemote(p), n)
			}
			return err
		})
}

func runMkdir(args []string, stderr io.Writer) error {
	var parents bool
	return eachPath("mkdir", "make missing parents too, and take an existing folder", &parents, "p", args, stderr,
		func(s *session, p string) error { return s.Mkdir(p, parents) })
}

// eachPath is a command that does one thing to each remote PATH given,
// with one boolean flag: it goes on past a path the server refuses, says
// why, and ends with exit 1 if any was.
func eachPath(cmd, flagUsage string, b *bool, flagName string, args []string, stderr io.Writer, do func(*session, string) error) error {
	var f clientFlags
	fs := newFlags(cmd, "[flags] PATH...", stderr)
	f.register(fs)
	fs.BoolVar(b, flagName, false, flagUsage)
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	paths, err := remotePaths(cmd, args, stderr)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fmt.Fprintf(stderr, "ferry %s: no PATH given\n", cmd)
		return errUsage
	}
	s, err := f.connect(stderr)
	if err != nil {
		return err
	}
	s.verbose = f.verbose
	var sum summary
	for _, p := range paths {
		if err := do(s, p); err != nil {
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
