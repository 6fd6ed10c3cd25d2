//go:build !ferry_nohelppages

package main

import (
	"fmt"
	"strings"
)

// The pages of "ferry help TOPIC". The config page lists the keywords from
// the parser's own table, so that it cannot go stale.

const trustHelp = `Trusting the server

A client authenticates the server before it sends anything, in one of two
ways.

By a CA (-ca FILE): the server's certificate must chain to a CA certificate
in FILE, be valid now, allow server authentication and, over TCP, name the
host of -server (or the name given with -server-name). Serial and stdio
links have no host name: there the CA decides, unless -server-name names
one. "ferry serve" makes a CA on its first start and prints its path;
"ferry ca" and "ferry cert" make your own.

By a pinned key (no -ca), like ssh. The first connection prints the
server's key fingerprint and stops:

	ferry: server key not known: 10.0.0.5:7417 offers key SHA256:...

Compare it with the fingerprint "ferry serve" printed when it started (its
log: journalctl -u ferry). Only if they match, run again with -trust-new,
which pins the key in STATE/known_hosts. From then on:

  - The key is the server's identity. A pinned key is trusted however the
    server is reached (another address, a serial line, stdio), and the
    client keeps one registration per server, not per link.
  - A key is pinned under the TCP address it was first seen at, or under an
    alias: -alias NAME, or the name of a device in the config file ("ferry
    help config"). A server reached under a pinned name that shows another
    key is refused: SERVER KEY CHANGED, exit 3, also with -trust-new.
    Someone may be in the middle; if the server was re-keyed on purpose,
    remove its line from STATE/known_hosts.
  - Serial lines and stdio have no address: without an alias any pinned key
    is trusted there, and a new one is pinned as (stdio) or
    (serial:DEVICE). Give each board an alias (-alias router-1), so that a
    board that is not the one you meant is refused.

A server first pinned and later trusted through its CA keeps the client's
registration.

STATE is -state (default ~/.config/ferry):

	known_hosts          pinned keys, one "NAME SHA256:..." line each
	servers/SHA256_...   the registration (name, ID, key) with a pinned server
	servers/ca_...       the registration with a server trusted through a CA

State written by the first release (servers/HOST_PORT, known_hosts lines
under addresses, "stdio" and "serial:DEVICE") keeps working; it moves to the
new names on first use.
`

const serialHelp = `Serial lines

Join the two machines with a USB-serial adapter or a UART (8N1; no hardware
flow control needed):

	ferry ports                                          # find the device
	ferry serve -serial /dev/ttyS0 -baud 115200 -data /srv/ferry   # on the board
	ferry send -serial /dev/ttyUSB0 -baud 115200 -alias board1 FILE

The first send prints the board's key fingerprint: compare it with the one
"ferry serve" printed, then send again with -trust-new to pin it under the
alias (ferry help trust). Without an alias, any pinned key is trusted on a
serial line: with one, moving the adapter to another board is refused as a
changed key instead of talking to the wrong board.

  -baud RATE         any rate the OS accepts (921600, non-standard ones)
  -rtscts            RTS/CTS hardware flow control, where it is wired
  -link-timeout D    end the session when the other side is silent this
                     long (default 60s); shorter outages are ridden out: pull
                     the cable, plug it back, and the transfer goes on

The link layer resynchronises after line noise, resends lost frames,
adapts its frame size to the error rate and skips login banners and shell
echo before a session. A board's console on stdin/stdout works too: run
"ferry serve -stdio -baud RATE" there, so that the timers start right.

Name the board once in the config file (ferry help config):

	device board1
		serial /dev/ttyUSB0
		baud 115200

and then: ferry send -server board1 FILE; ferry ls -server board1.
`

func configHelp() string {
	var b strings.Builder
	b.WriteString(`The config file

$XDG_CONFIG_HOME/ferry/config (~/.config/ferry/config), or the file given
with -config, names devices, as ~/.ssh/config names hosts. Every client
command (send, get, ls, rm, mv, mkdir) reads it: "-server NAME" with the name
of a device takes the device's transport and trust, and flags given on the
command line win over the file.

	# my devices
	device router                # a serial line; its key is pinned as "router"
		serial /dev/ttyUSB0
		baud 115200
		pin
	device pi                    # TCP, trusted through a CA
		server pi.local          # host[:port]; port 7417 if none
		ca ~/pki/ca.pem

	ferry send -server router cfg.tar
	ferry get -server pi logs/x.log

One keyword per line, its value to the end of the line; "#" at the start
of a line or after a space starts a comment; indentation is for the eye.
Paths may start with ~/; relative ones are relative to the config file's
folder. A device's name is letters, digits, '.', '-' and '_'; it is also
the alias its key is pinned under (unless the block says alias), and,
without server, serial or stdio, the TCP host. A mistake is reported with
its line, and exit 2.

Keywords of a device block:

`)
	for _, kw := range keywords {
		fmt.Fprintf(&b, "\t%-25s %s\n", strings.TrimSpace(kw.name+" "+kw.arg), kw.help)
	}
	b.WriteString("\nThese exclude each other in one block: ")
	for i, set := range exclusive {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.Join(set, ", "))
	}
	b.WriteString(".\n")
	return b.String()
}

const exitCodesHelp = `Exit codes

	0  success
	1  the operation failed: I/O, network, refused by the server (a name
	   taken, a client disabled by the operator), some files of several
	2  bad command line, or a mistake in the config file
	3  the server could not be authenticated: untrusted certificate,
	   unknown key (run again with -trust-new after comparing the
	   fingerprint), SERVER KEY CHANGED, a bad handshake signature
	4  the checksum never matched after 3 resends; the file was not stored
	5  fsck found problems (and did not repair them all)

Errors are one line on stderr saying what happened and what to do; -v adds
the whole chain of what failed on a second line.
`
