package main

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"ferry/client"
)

type getFlags struct {
	clientFlags
	out, to   string
	recursive bool
	noClobber bool
}

func runGet(args []string, stderr io.Writer) error {
	var f getFlags
	fs := newFlags("get", "[flags] PATH...", stderr)
	f.clientFlags.register(fs)
	fs.StringVar(&f.out, "o", "", "write the file to this local `file` (one PATH only); - is stdout")
	fs.StringVar(&f.to, "to", "", "write into this local `folder` (default: the current one)")
	fs.BoolVar(&f.recursive, "r", false, "get folders with everything in them")
	fs.BoolVar(&f.noClobber, "n", false, "never replace a local file (no clobber)")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	paths, err := remotePaths("get", args, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(paths) == 0:
		fmt.Fprintln(stderr, "ferry get: no PATH given")
		return errUsage
	case f.out != "" && (len(paths) > 1 || f.recursive):
		fmt.Fprintln(stderr, "ferry get: -o takes one file (no -r)")
		return errUsage
	case f.out != "" && f.to != "":
		fmt.Fprintln(stderr, "ferry get: -o and -to exclude each other")
		return errUsage
	case f.out == "-" && f.transport.stdio:
		fmt.Fprintln(stderr, "ferry get: -o - with -stdio: stdout carries the protocol")
		return errUsage
	}
	items, err := f.items(paths)
	if err != nil {
		return err
	}
	s, err := f.connect(stderr)
	if err != nil {
		return err
	}
	if f.out == "-" {
		s.out = stderr // stdout carries the content
	}
	start := time.Now()
	sum := summary{verbose: f.verbose, out: s.out}
	err = s.Get(items, func(r client.GetResult) {
		s.meter.done(r.Err)
		switch {
		case r.Err != nil:
			fmt.Fprintf(s.meter, "ferry: %s: %v\n", displayRemote(r.Remote), errText(r.Err))
			sum.fail(r.Err)
		case r.Dir:
			if f.verbose {
				fmt.Fprintf(s.out, "made %s\n", r.Local)
			}
		default:
			local := r.Local
			if r.Item.Out != nil {
				local = "stdout"
			}
			sum.file(r.Size, r.Resumed, fmt.Sprintf("got %s as %s: %d bytes, cksum %d, %s", displayRemote(r.Remote), local, r.Size, r.Cksum, rate(r.Size-r.Resumed, r.Duration)))
		}
	})
	err = s.finish(err)
	sum.print("got", time.Since(start))
	if err != nil {
		return err
	}
	return sum.err()
}

// items maps the remote paths to local targets, like scp: a file goes to
// -o, or under its base name into -to (default the current folder); a
// folder (-r) becomes a folder of its base name there.
func (f *getFlags) items(paths []string) ([]client.GetItem, error) {
	var items []client.GetItem
	for _, p := range paths {
		it := client.GetItem{Remote: p, Recursive: f.recursive, Dir: f.to, Name: path.Base(p), NoClobber: f.noClobber}
		if p == "" {
			it.Name = "" // the root's content goes straight into the folder
		}
		switch f.out {
		case "":
		case "-":
			it.Out = os.Stdout
		default:
			it.Dir, it.Name = filepath.Dir(f.out), filepath.Base(f.out)
			if st, err := os.Stat(f.out); err == nil && st.IsDir() {
				it.Dir, it.Name = f.out, path.Base(p)
			}
		}
		if it.Name == "" && !f.recursive {
			return nil, fmt.Errorf("get: the root folder needs -r")
		}
		items = append(items, it)
	}
	return items, nil
}

// displayRemote names a remote path in messages.
func displayRemote(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
