package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"ferry/client"
)

type sendFlags struct {
	clientFlags
	as, to     string
	recursive  bool
	noClobber  bool
	classic    bool
	classicDir string
}

func runSend(args []string, stderr io.Writer) error {
	var f sendFlags
	fs := newFlags("send", "[flags] FILE... | -as NAME -", stderr)
	f.clientFlags.register(fs)
	fs.StringVar(&f.as, "as", "", "store the file under this `path` (one FILE only; may hold folders: logs/2026/x.log; needed for - (stdin))")
	fs.StringVar(&f.to, "to", "", "store the files under this remote `folder`")
	fs.BoolVar(&f.recursive, "r", false, "send folders with everything in them")
	fs.BoolVar(&f.noClobber, "n", false, "never replace a file on the server (no clobber)")
	fs.BoolVar(&f.classic, "classic", false, "speak the classic, UNAUTHENTICATED seed-004 protocol (docs/CLASSIC.md); with no FILE, act as the deployed client: read transfer.info, me.info and priv.key in the working directory")
	fs.StringVar(&f.classicDir, "classic-dir", "", "with -classic and FILEs: `directory` of me.info and priv.key")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if f.classic {
		f.mem.apply()
		if !flagSet(fs, "server") {
			f.server = "127.0.0.1:1357" // the deployed clients' default port
		}
		return sendClassic(&f, files, stderr)
	}
	switch {
	case len(files) == 0:
		fmt.Fprintln(stderr, "ferry send: no FILE given")
		return errUsage
	case f.as != "" && len(files) > 1:
		fmt.Fprintln(stderr, "ferry send: -as needs exactly one FILE")
		return errUsage
	case f.as != "" && f.to != "":
		fmt.Fprintln(stderr, "ferry send: -as and -to exclude each other (-as takes a path)")
		return errUsage
	}
	for _, p := range files {
		if p == "-" && f.as == "" {
			fmt.Fprintln(stderr, "ferry send: - (stdin) needs -as NAME")
			return errUsage
		}
	}
	return send(&f, files, stderr)
}

// plan is what a send will do: the files to put and the empty folders to
// make, found before connecting.
type plan struct {
	items   []client.PutItem
	dirs    []string // remote folders to make (empty local folders)
	failed  int      // local paths that cannot be sent (each reported)
	streams bool     // one item reads stdin
}

// planSend checks the local paths and maps them to remote paths.
func planSend(f *sendFlags, files []string, stderr io.Writer) (*plan, error) {
	to, err := client.CleanPath(f.to)
	if err != nil {
		return nil, err
	}
	pl := &plan{}
	for _, local := range files {
		if local == "-" {
			remote, err := client.CleanPath(f.as)
			if err != nil {
				return nil, err
			}
			pl.items = append(pl.items, client.PutItem{Reader: os.Stdin, Local: "-", Remote: remote, NoClobber: f.noClobber})
			pl.streams = true
			continue
		}
		st, err := os.Stat(local)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "ferry: %s: %v\n", local, errText(err))
			pl.failed++
			continue
		case st.IsDir() && !f.recursive:
			fmt.Fprintf(stderr, "ferry: %s is a folder; send it with -r\n", local)
			pl.failed++
			continue
		case !st.IsDir() && !st.Mode().IsRegular():
			fmt.Fprintf(stderr, "ferry: %s is not a regular file\n", local)
			pl.failed++
			continue
		}
		remote := path.Join(to, filepath.Base(filepath.Clean(local)))
		if f.as != "" {
			if remote, err = client.CleanPath(f.as); err != nil {
				return nil, err
			}
		}
		if st.IsDir() {
			pl.walk(local, remote, f.noClobber, stderr)
			continue
		}
		pl.items = append(pl.items, client.PutItem{Local: local, Remote: remote, NoClobber: f.noClobber})
	}
	return pl, nil
}

// walk adds the files of the local folder dir, stored under remote.
func (pl *plan) walk(dir, remote string, noClobber bool, stderr io.Writer) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(stderr, "ferry: %s: %v\n", p, errText(err))
			pl.failed++
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		r := path.Join(remote, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			if empty, _ := isEmptyDir(p); empty {
				pl.dirs = append(pl.dirs, r)
			}
		case d.Type().IsRegular():
			pl.items = append(pl.items, client.PutItem{Local: p, Remote: r, NoClobber: noClobber})
		default:
			fmt.Fprintf(stderr, "ferry: %s: not a regular file; skipped\n", p)
		}
		return nil
	})
}

func isEmptyDir(p string) (bool, error) {
	d, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer d.Close()
	_, err = d.Readdirnames(1)
	return err == io.EOF, nil
}

func send(f *sendFlags, files []string, stderr io.Writer) error {
	pl, err := planSend(f, files, stderr)
	if err != nil {
		return err
	}
	if len(pl.items) == 0 && len(pl.dirs) == 0 {
		return errSome
	}
	s, err := f.connect(stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	sum := summary{failed: pl.failed, verbose: f.verbose, out: s.out}
	if !s.Ops() {
		err = s.sendFirstRelease(pl, &sum)
	} else {
		err = s.put(pl, &sum)
	}
	err = s.finish(err)
	sum.print("stored", time.Since(start))
	if err != nil {
		return err
	}
	return sum.err()
}

// put makes the empty folders, then stores the files, pipelined.
func (s *session) put(pl *plan, sum *summary) error {
	for _, d := range pl.dirs {
		if err := s.Mkdir(d, true); err != nil {
			if !isOpError(err) {
				return err
			}
			fmt.Fprintf(s.meter, "ferry: %v\n", err)
			sum.failed++
		}
	}
	s.Last() // the goodbye goes with the last file
	return s.Put(pl.items, func(r client.PutResult) {
		s.meter.done(r.Err)
		if r.Err != nil {
			fmt.Fprintf(s.meter, "ferry: %s: %v\n", r.Item.Local, errText(r.Err))
			sum.fail(r.Err)
			return
		}
		how := ""
		if r.Replaced {
			how = ", replaced"
		}
		sum.file(r.Size, r.Resumed, fmt.Sprintf("stored %s as %q: %d bytes, cksum %d, %s%s", r.Item.Local, r.Item.Remote, r.Size, r.Cksum, rate(r.Size-r.Resumed, r.Duration), how))
	})
}

// sendFirstRelease uploads to a server of the first release, which takes
// plain names only.
func (s *session) sendFirstRelease(pl *plan, sum *summary) error {
	if len(pl.dirs) > 0 || pl.streams {
		return client.ErrNoOps
	}
	for _, it := range pl.items {
		if path.Base(it.Remote) != it.Remote {
			return fmt.Errorf("%s: %w", it.Remote, client.ErrNoOps)
		}
		res, err := s.Upload(it.Local, it.Remote)
		s.meter.done(err)
		if err != nil {
			return fmt.Errorf("%s: %w", it.Local, err)
		}
		sum.file(res.Size, 0, fmt.Sprintf("stored %s as %q: %d bytes, cksum %d, %s", it.Local, res.Name, res.Size, res.Cksum, rate(res.Size, res.Duration)))
	}
	return nil
}
