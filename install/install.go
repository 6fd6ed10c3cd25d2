// Package install puts ferry onto a bare device through its console: a
// serial line to a router's UART, or any pipe to a shell. The device needs
// only a POSIX shell and the applets of stock OpenWrt's busybox; no base64,
// uudecode, xxd, od, stty or rz.
//
// The flow, in the order of Run:
//
//  1. find the shell: wake the console, skip boot noise and banners, log in
//     if asked, until a probe gets its answer (shell.go);
//  2. bootstrap: type a capture command, send the device-side functions
//     (device.sh and its decoder decode.awk) as text, check their sha256
//     on the device and source them;
//  3. ask the device what it is (uname -m, byte order and word size of its
//     ELF files, CPU features, free space) and pick the build (device.go);
//  4. send the gzipped binary in pieces, each as lines of base-85 text
//     (encode.go) that sed captures, checked with sha256sum on arrival
//     (a bad piece is sent again, alone) and decoded in the background;
//     pieces kept from an interrupted install are checked and reused
//     (pieces.go);
//  5. join the pieces, gunzip, check the sha256 of the whole binary, make
//     it executable, run "ferry version" there;
//  6. clean up, or hand the console to "ferry serve -stdio".
//
// Every command the laptop types is a short call of a device-side function
// with a number; replies are lines "FY=N ..." that neither the echo of the
// commands nor of the data can contain. The package does not open ports,
// read the terminal or print: the caller does (cmd_install.go).
package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Options configure Run. The zero value installs the build for the device
// from ./dist to /tmp/ferry.
type Options struct {
	Dest      string                  // path of ferry on the device; default /tmp/ferry
	Bin       string                  // the binary to install; default: Dist's build for the device
	Board     string                  // install Dist/ferry-<Board> whatever the device says
	Dist      string                  // folder of "make boards" builds; default "dist"
	Login     string                  // user name for a login prompt
	Password  func() (string, error)  // asked only when the console wants a password
	Baud      int                     // the line's rate, for timeouts and piece sizes; 0 = a fast pipe
	Timeout   time.Duration           // for the shell to answer, and for each reply beyond its data's line time; default 30s
	Serve     bool                    // then give the console to "ferry serve -stdio"
	ServeArgs []string                // more arguments for ferry serve there (-data DIR)
	Fresh     bool                    // do not reuse pieces kept from an earlier install
	Progress  func(done, total int64) // compressed bytes on the device, of total: at the start (kept ones) and after each piece
	Logf      func(format string, args ...any)
	Trace     io.Writer // a transcript of the console, for debugging

	elfProbe []string // files whose ELF header tells the byte order; tests change it
}

// Result reports an install.
type Result struct {
	Device      string        // what the device said it is
	Board       string        // the build installed ("" with Options.Bin)
	File        string        // the file installed from
	Size        int64         // bytes of the binary
	Compressed  int64         // bytes of it gzipped
	Kept        int64         // compressed bytes found on the device from an earlier install
	Pieces      int           // pieces sent
	Resent      int           // pieces sent again
	Typed       int64         // bytes typed on the console
	Elapsed     time.Duration // from the start of the transfer to the check of the whole
	Already     bool          // the device had this binary already: nothing sent
	Version     string        // what "ferry version" printed on the device
	ServeOutput []string      // with Serve: what ferry serve printed on its first start (the key fingerprint)
}

// Errors of Run, for callers that branch on them.
var (
	// ErrNoShell: no shell answered on the console within the timeout.
	ErrNoShell = errors.New("install: no shell prompt on the console")
	// ErrLogin: the console asks for a login that was not given or failed.
	ErrLogin = errors.New("install: login on the console")
	// ErrUnknownMachine: no build of "make boards" runs on the device.
	ErrUnknownMachine = errors.New("install: no ferry build for this device")
	// ErrNoSpace: too little free space in the destination's folder.
	ErrNoSpace = errors.New("install: not enough space on the device")
	// ErrDevice: the device could not do a step (write, gunzip, run).
	ErrDevice = errors.New("install: on the device")
	// ErrVerify: the binary on the device is not the one sent.
	ErrVerify = errors.New("install: verification failed")
)

// Run installs ferry on the device at the other end of port.
func Run(ctx context.Context, port io.ReadWriter, opt Options) (*Result, error) {
	if err := opt.setDefaults(); err != nil {
		return nil, err
	}
	return run(ctx, port, opt)
}

func (o *Options) setDefaults() error {
	if o.Dest == "" {
		o.Dest = "/tmp/ferry"
	}
	if o.Dist == "" {
		o.Dist = "dist"
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.elfProbe == nil {
		o.elfProbe = []string{"/bin/busybox", "/bin/sh", "/bin/ls"}
	}
	return checkDest(o.Dest)
}

// checkDest refuses a destination the device's shell would have to quote:
// it is typed in commands.
func checkDest(d string) error {
	if !strings.HasPrefix(d, "/") || strings.HasSuffix(d, "/") || len(d) > 100 || strings.Contains(d, "/./") || strings.Contains(d, "/../") {
		return fmt.Errorf("install: -dest %q: give an absolute file path (at most 100 characters)", d)
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+", r)) {
			return fmt.Errorf("install: -dest %q: only letters, digits and / . _ - + please", d)
		}
	}
	return nil
}
