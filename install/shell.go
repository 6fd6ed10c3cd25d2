package install

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// Finding the shell. A console may show anything when the laptop starts:
// boot messages, OpenWrt's "Please press Enter to activate this console.",
// a login prompt, a shell prompt, a capture of an install that was cut off
// (sed still waiting for its end line), a half-typed command. findShell
// types a "kick", waits for the output to settle, answers a login or
// password prompt, and otherwise types a probe whose answer only a shell
// prints (probe below): the command prints "FY=N up", while its echo
// shows two single quotes between F and Y. The kicks grow stronger:
// Enter; the end line of a capture; ^C (a foreground program, a
// half-typed line); ^Q (output stopped by noise that looked like ^S). Each
// ends with CR LF: Enter for a terminal (two empty lines), a line end for
// a shell that reads a pipe.
var kicks = []string{"\r\n", ending + "\r\n", "\x03\r\n", "\x11\x03\r\n"}

// findShell gets to a shell that answers probes, or fails at deadline.
func (s *session) findShell(deadline time.Time) error {
	logins := 0
	out, err := s.kick(kicks[0])
	for try := 1; err == nil; try++ {
		switch prompt := lastPrompt(out); prompt {
		case "login", "password":
			if logins++; logins > 2 {
				return fmt.Errorf("%w: refused (last seen: %q)", ErrLogin, tail(out, 200))
			}
			out, err = s.login(prompt, deadline)
			continue
		case "enter":
			out, err = s.kick("\r\n")
			continue
		}
		if s.probe(earlier(time.Now().Add(3*time.Second), deadline)) == nil {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w within %v (is it a shell console, at the right baud rate? last seen: %q)",
				ErrNoShell, s.opt.Timeout, tail(out, 200))
		}
		out, err = s.kick(kicks[try%len(kicks)])
	}
	return err
}

// kick types k and returns the output once it settles.
func (s *session) kick(k string) ([]byte, error) {
	if err := s.c.send(k); err != nil {
		return nil, err
	}
	out, err := s.c.quiet(300*time.Millisecond, 2*time.Second)
	out = append([]byte(nil), out...)
	s.c.drain()
	return out, err
}

// probe types a probe and waits for its answer.
func (s *session) probe(deadline time.Time) error {
	n := s.next()
	if err := s.c.send("echo F''Y=$((0+" + strconv.Itoa(n) + ")) up\n"); err != nil {
		return err
	}
	l, err := s.c.reply(deadline, n)
	if err == nil && l != "up" {
		err = fmt.Errorf("install: probe answered %q", l)
	}
	return err
}

// login answers a login or password prompt and returns what the console
// shows next.
func (s *session) login(prompt string, deadline time.Time) ([]byte, error) {
	if s.opt.Login == "" {
		return nil, fmt.Errorf("%w: the console asks for a %s; give -login USER (the password comes from FERRY_PASSWORD or the terminal)", ErrLogin, prompt)
	}
	if prompt == "login" {
		out, err := s.kick(s.opt.Login + "\r")
		if err != nil || lastPrompt(out) != "password" {
			return out, err // no password: the shell comes, or the probe tells
		}
	}
	if s.opt.Password == nil {
		return nil, fmt.Errorf("%w: the console asks for a password and there is none", ErrLogin)
	}
	pw, err := s.opt.Password()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLogin, err)
	}
	out, err := s.kick(pw + "\r")
	if bytes.Contains(bytes.ToLower(out), []byte("incorrect")) {
		return nil, fmt.Errorf("%w: refused for %q (%q)", ErrLogin, s.opt.Login, bytes.TrimSpace(tail(out, 100)))
	}
	return out, err
}

// lastPrompt names the prompt the output ends with: "login", "password",
// "enter" (OpenWrt's "Please press Enter to activate this console."), or "".
func lastPrompt(out []byte) string {
	t := bytes.ToLower(bytes.TrimRight(out, " \t\r\n"))
	switch {
	case bytes.HasSuffix(t, []byte("login:")):
		return "login"
	case bytes.HasSuffix(t, []byte("password:")):
		return "password"
	case bytes.HasSuffix(t, []byte("activate this console.")):
		return "enter"
	}
	return ""
}

// resync gets back to the shell after a reply did not come: it ends a
// capture that lost its end line and cancels what was typed, then probes.
func (s *session) resync() error {
	s.logf("no answer from the device; looking for its shell again")
	deadline := time.Now().Add(s.opt.Timeout)
	for try := 1; time.Now().Before(deadline); try++ {
		if _, err := s.kick(kicks[try%len(kicks)]); err != nil {
			return err
		}
		if s.probe(earlier(time.Now().Add(3*time.Second), deadline)) == nil {
			return nil
		}
	}
	s.lost = true
	return fmt.Errorf("%w: lost it during the install (a cable pulled? the verified pieces stay on the device for the next install)", ErrNoShell)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
