//go:build !ferry_noinstall

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"ferry/install"
	"ferry/link"
	pbar "ferry/progress"
)

// installFlags are the flags of "ferry install".
type installFlags struct {
	serial, bin, board, dist, dest, login, then, data, trace string
	baud                                                     int
	baudSet, rtscts, stdio, fresh, quiet                     bool
	timeout                                                  time.Duration
}

func runInstall(args []string, stderr io.Writer) error {
	f := installFlags{baud: 115200}
	fs := newFlags("install", "-serial DEVICE | -stdio [flags]", stderr)
	fs.StringVar(&f.serial, "serial", "", "the device's console is on this serial `device` (e.g. /dev/ttyUSB0)")
	fs.Var(installBaud{&f}, "baud", "the console's `rate` (8N1); with -stdio, the rate of a line behind the pipe, if any; 0 = a fast pipe")
	fs.BoolVar(&f.rtscts, "rtscts", false, "use RTS/CTS hardware flow control (only where it is wired)")
	fs.BoolVar(&f.stdio, "stdio", false, "the console is stdin/stdout (a pipe to a shell, e.g. ssh)")
	fs.StringVar(&f.bin, "bin", "", "install this `file` instead of the build for the device")
	fs.StringVar(&f.board, "board", "", "install the build of this board `profile` (ferry-NAME in -dist), whatever the device says")
	fs.StringVar(&f.dist, "dist", "dist", "`folder` of the builds of \"make boards\" (ferry-<board>)")
	fs.StringVar(&f.dest, "dest", "/tmp/ferry", "`path` of ferry on the device")
	fs.StringVar(&f.login, "login", "", "answer a login prompt as `user`; the password comes from $FERRY_PASSWORD or is asked on the terminal")
	fs.StringVar(&f.then, "then", "", "`serve`: then start \"ferry serve -stdio\" on the console, for ferry send/get -serial on the same cable")
	fs.StringVar(&f.data, "data", "", "with -then serve: the server's data `directory` on the device (default: its own default)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up when the device's shell does not answer for this `long`")
	fs.BoolVar(&f.fresh, "fresh", false, "do not reuse pieces kept on the device from an interrupted install")
	fs.StringVar(&f.trace, "trace", "", "write a transcript of the console to this `file` (for bug reports)")
	fs.BoolVar(&f.quiet, "q", false, "no progress bar")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(fs); err != nil {
		return err
	}
	return installOnDevice(&f, stderr)
}

// installBaud is -baud, remembering whether it was given (as baudValue).
type installBaud struct{ f *installFlags }

func (b installBaud) String() string {
	if b.f == nil {
		return ""
	}
	return strconv.Itoa(b.f.baud)
}

func (b installBaud) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return errors.New("not a positive number")
	}
	b.f.baud, b.f.baudSet = n, true
	return nil
}

func (f *installFlags) check(fs *flag.FlagSet) error {
	fail := func(format string, a ...any) error {
		fmt.Fprintf(fs.Output(), "ferry install: "+format+"\n", a...)
		return errUsage
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case (f.serial == "") == !f.stdio:
		return fail("give the console: -serial DEVICE or -stdio")
	case f.bin != "" && f.board != "":
		return fail("-bin and -board exclude each other")
	case f.then != "" && f.then != "serve":
		return fail("-then %q: only -then serve", f.then)
	case f.data != "" && f.then == "":
		return fail("-data goes with -then serve")
	case strings.ContainsAny(f.data, " \t\n'\"$`\\;&|<>()*?[]{}~#"):
		return fail("-data %q: a plain path, please (it is typed into the device's shell)", f.data)
	}
	return nil
}

func installOnDevice(f *installFlags, stderr io.Writer) error {
	port, name, err := f.open()
	if err != nil {
		return err
	}
	defer port.Close()
	bar := pbar.New(stderr, pbar.Options{Terminal: stderrIsTerminal(stderr), Quiet: f.quiet, NoSummary: true})
	defer bar.Finish()
	opt := f.options(bar)
	if f.trace != "" {
		tf, err := os.Create(f.trace)
		if err != nil {
			return err
		}
		defer tf.Close()
		opt.Trace = tf
	}
	// ^C stops the install after a last short exchange that removes the
	// partial files; a second ^C kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }()
	res, err := install.Run(ctx, port, opt)
	bar.Finish()
	if err != nil {
		return err
	}
	report(stderr, f, name, res)
	return nil
}

// open opens the console.
func (f *installFlags) open() (io.ReadWriteCloser, string, error) {
	if f.stdio {
		return link.Stdio(), "stdio", nil
	}
	p, err := link.OpenSerial(f.serial, link.PortConfig{Baud: f.baud, RTSCTS: f.rtscts})
	return p, f.serial, err
}

// options turn the flags into install.Options; progress and notices go
// through the bar.
func (f *installFlags) options(bar *pbar.Progress) install.Options {
	opt := install.Options{
		Dest: f.dest, Bin: f.bin, Board: f.board, Dist: f.dist,
		Login: f.login, Password: func() (string, error) { return devicePassword(f.login) },
		Timeout: f.timeout, Serve: f.then == "serve", Fresh: f.fresh,
		Logf: func(format string, a ...any) { fmt.Fprintf(bar, "ferry: "+format+"\n", a...) },
	}
	if f.serial != "" || f.baudSet {
		opt.Baud = f.baud // with -stdio: only if given
	}
	if f.data != "" {
		opt.ServeArgs = []string{"-data", f.data}
	}
	last := int64(-1)
	opt.Progress = func(done, total int64) {
		if last < 0 {
			bar.Start("ferry.gz", total, done)
		} else {
			bar.Add(done - last)
		}
		last = done
	}
	return opt
}

// devicePassword is $FERRY_PASSWORD, or asked on the terminal (not stdin:
// with -stdio that is the console). Never a flag: flags show in ps.
func devicePassword(user string) (string, error) {
	if pw, ok := os.LookupEnv("FERRY_PASSWORD"); ok {
		return pw, nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errors.New("the console asks for a password: set FERRY_PASSWORD (no terminal to ask on)")
	}
	defer tty.Close()
	fmt.Fprintf(tty, "Password for %s on the device: ", user)
	pw, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	return string(pw), err
}

func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && pbar.IsTerminal(f)
}

// report says what was installed, and with -then serve how to go on.
func report(w io.Writer, f *installFlags, name string, r *install.Result) {
	what := r.File
	if r.Board != "" {
		what = "the " + r.Board + " build (" + r.File + ")"
	}
	if r.Already {
		fmt.Fprintf(w, "ferry: %s on the device (%s) is %s already; sha256 checked\n", f.dest, r.Device, what)
	} else {
		rate := float64(r.Compressed-r.Kept) / max(r.Elapsed.Seconds(), 1e-3)
		fmt.Fprintf(w, "ferry: installed %s as %s on the device (%s): %d bytes, %d gzipped, in %.1f s (%.1f KiB/s), sha256 checked there",
			what, f.dest, r.Device, r.Size, r.Compressed, r.Elapsed.Seconds(), rate/1024)
		if r.Kept > 0 {
			fmt.Fprintf(w, "; %d bytes were kept from an earlier install", r.Kept)
		}
		if r.Resent > 0 {
			fmt.Fprintf(w, "; %d of %d pieces sent again", r.Resent, r.Pieces)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "ferry: %s version: %s\n", f.dest, r.Version)
	if f.then != "serve" {
		return
	}
	for _, l := range r.ServeOutput {
		if l != "" {
			fmt.Fprintf(w, "ferry: on the device: %s\n", strings.TrimPrefix(l, "ferry: "))
		}
	}
	how := "-stdio"
	if !f.stdio {
		how = fmt.Sprintf("-serial %s -baud %d", name, f.baud)
	}
	fmt.Fprintf(w, "ferry: ferry serve -stdio runs on the console now; next: ferry send %s -trust-new FILE\n", how)
}
