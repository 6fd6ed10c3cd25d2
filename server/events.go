package server

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"ferry/crypt"
	"ferry/frame"
	"ferry/link"
	"ferry/progress"
	"ferry/safe"
)

// The server's log has one line per session and one per operation, with
// who (peer address, client name and ID), what (operation, path), how much
// (files, bytes, time, rate) and how it ended. Config.Event receives them
// as Events; without it they are written as text through Logf. FormatText
// and FormatJSON are the two forms ferry serve -log writes.

// Event is one session or operation, for the log.
type Event struct {
	Time     time.Time
	Kind     string // "session" or "op"
	Peer     string // the TCP address, "serial:DEVICE" or "stdio"
	Client   string // the client's name ("" before authentication)
	ClientID string
	Op       string // put, get, ls, rm, mv, mkdir (Kind "op")
	Path     string
	Files    int
	Bytes    int64
	Duration time.Duration
	Result   string // "ok", "replaced", "resumed", or what went wrong
}

// peerOf names the other end of a link for the log: the TCP address,
// "serial:DEVICE" or "stdio" (a link session's Peer), so that an
// operator can tell a serial line's sessions from a pipe's.
func peerOf(c link.Conn) string {
	if ra, ok := c.(interface{ RemoteAddr() net.Addr }); ok {
		return ra.RemoteAddr().String()
	}
	if p, ok := c.(interface{ Peer() string }); ok {
		return p.Peer()
	}
	if w, ok := c.(*watched); ok {
		return peerOf(w.Conn)
	}
	return "link"
}

// emit sends e to Config.Event, or logs it as text.
func (s *Server) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if s.cfg.Event != nil {
		s.cfg.Event(e)
		return
	}
	s.cfg.Logf("%s", FormatText(&e))
}

// op logs an operation of the session.
func (h *session) op(op, path string, files int, n int64, start time.Time, result string) {
	h.srv.emit(Event{Kind: "op", Peer: h.peer, Client: h.client.Name, ClientID: frame.ClientID(h.client.ID).String(),
		Op: op, Path: path, Files: files, Bytes: n, Duration: time.Since(start), Result: result})
}

// sessionEnded logs the end of a session: how long, what moved, and why
// it ended.
func (h *session) sessionEnded(start time.Time, err error) {
	e := Event{Kind: "session", Peer: h.peer, Client: h.client.Name, Files: h.files, Bytes: h.bytes, Duration: time.Since(start), Result: "ok"}
	if h.authed {
		e.ClientID = frame.ClientID(h.client.ID).String()
	}
	if err != nil {
		e.Result = endReason(err)
	}
	h.srv.emit(e)
}

// endReason says in words why a session ended.
func endReason(err error) string {
	switch {
	case errors.Is(err, crypt.ErrClosedByPeer):
		return "closed by the client without goodbye"
	case errors.Is(err, crypt.ErrTruncated):
		return "connection cut in the middle of a frame"
	case errors.Is(err, crypt.ErrOpen):
		return "a frame failed authentication (tampering, or another session's)"
	case errors.Is(err, ErrNotAuth):
		return "requests before authentication"
	case errors.Is(err, ErrProtocol):
		return "protocol violation: " + err.Error()
	case isTimeout(err):
		return "idle timeout"
	}
	return err.Error()
}

func isTimeout(err error) bool {
	ne, ok := errors.AsType[interface {
		error
		Timeout() bool
	}](err)
	return ok && ne.Timeout()
}

// FormatText is an event as a line of text, the rate in the unit that
// suits it (B/s on a serial line, MiB/s on a LAN), as the client's
// progress line gives it:
//
//	op put "logs/x.log" client "pi" (0123...) from 10.0.0.5:51234: ok, 1 files, 48213 bytes in 12ms (3.8 MiB/s)
func FormatText(e *Event) string {
	var b strings.Builder
	b.WriteString(e.Kind)
	if e.Op != "" {
		b.WriteString(" " + e.Op + " " + strconv.Quote(safe.Text(e.Path)))
	}
	if e.Client != "" {
		fmt.Fprintf(&b, " client %q (%s)", safe.Text(e.Client), e.ClientID)
	} else if e.Kind == "session" {
		b.WriteString(" unauthenticated")
	}
	fmt.Fprintf(&b, " from %s: %s", e.Peer, safe.Text(e.Result))
	if e.Files > 0 || e.Bytes > 0 || e.Kind == "session" {
		fmt.Fprintf(&b, ", %d files, %d bytes", e.Files, e.Bytes)
	}
	fmt.Fprintf(&b, " in %v", e.Duration.Round(time.Millisecond))
	if e.Bytes > 0 {
		b.WriteString(" (" + rateOf(e.Bytes, e.Duration) + ")")
	}
	return b.String()
}

// rateOf is n bytes in d as text: "11.2 KiB/s", or "instant".
func rateOf(n int64, d time.Duration) string {
	if d <= 0 {
		return "instant"
	}
	return progress.FormatRate(float64(n) / d.Seconds())
}

// FormatJSON is an event as one JSON object (no newline), for machines:
// time (RFC 3339, ns), kind, peer, client, client_id, op, path, files,
// bytes, duration_ms, bytes_per_s, result; empty fields left out.
func FormatJSON(e *Event) string {
	b := []byte(`{"time":`)
	b = strconv.AppendQuote(b, e.Time.UTC().Format(time.RFC3339Nano))
	str := func(k, v string) {
		if v != "" {
			b = append(b, `,"`+k+`":`...)
			b = appendJSONString(b, v)
		}
	}
	str("kind", e.Kind)
	str("peer", e.Peer)
	str("client", e.Client)
	str("client_id", e.ClientID)
	str("op", e.Op)
	str("path", e.Path)
	b = append(b, `,"files":`...)
	b = strconv.AppendInt(b, int64(e.Files), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.Bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(e.Duration.Microseconds())/1000, 'f', 3, 64)
	if e.Duration > 0 {
		b = append(b, `,"bytes_per_s":`...)
		b = strconv.AppendFloat(b, float64(e.Bytes)/e.Duration.Seconds(), 'f', 0, 64)
	}
	str("result", e.Result)
	return string(append(b, '}'))
}

// JSONMessage is a free-text log line as a JSON object.
func JSONMessage(t time.Time, msg string) string {
	b := []byte(`{"time":`)
	b = strconv.AppendQuote(b, t.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"msg":`...)
	b = appendJSONString(b, msg)
	return string(append(b, '}'))
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029:
			b = append(b, `\u`...)
			b = append(b, fmt.Sprintf("%04x", r)...)
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}
