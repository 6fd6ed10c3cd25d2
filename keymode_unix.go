//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// warnKeyMode warns when a private key file can be read by the group or
// by others: anyone who reads it can pose as the server.
func warnKeyMode(path string, stderr io.Writer) {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return // a missing file is LoadIdentity's to report
	}
	fmt.Fprintf(stderr, "ferry: warning: the private key %s can be read by its group or others (mode %04o): chmod 600 %s\n",
		path, fi.Mode().Perm(), path)
}

// descriptorsPerSession is what one session can hold at a time: its
// connection and the temporary file of an upload.
const descriptorsPerSession = 2

// warnDescriptors warns when the process may run out of file descriptors
// before it reaches -max-sessions. The server survives it (Accept errors
// are retried), but connections then wait in the backlog.
func warnDescriptors(maxSessions int, stderr io.Writer) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return
	}
	need := uint64(maxSessions*descriptorsPerSession + 32) // the tables, the listener, the runtime
	if uint64(lim.Cur) < need {
		fmt.Fprintf(stderr, "ferry: warning: -max-sessions %d may need %d file descriptors, and the limit is %d (ulimit -n): "+
			"raise it or lower -max-sessions\n", maxSessions, need, lim.Cur)
	}
}
