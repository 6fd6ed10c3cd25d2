package main

import (
	"io"
	"os"

	"ferry/progress"
)

// meter adapts the client's progress reports (a file's name and the bytes
// moved so far) to the progress bar, which wants a start per file and
// increments. Output rules (age's cmd/age/tui.go style, in one place):
// results go to the session's out (stdout, or stderr when stdout carries
// the protocol); the bar, notices and errors go to stderr, the bar only
// when stderr is a terminal and not -q.
type meter struct {
	p    *progress.Progress
	w    io.Writer
	name string
	last int64
	open bool
}

func newMeter(stderr io.Writer, quiet, verbose bool) *meter {
	term := false
	if f, ok := stderr.(*os.File); ok {
		term = progress.IsTerminal(f)
	}
	p := progress.New(stderr, progress.Options{Terminal: term, Quiet: quiet, NoSummary: true})
	return &meter{p: p, w: stderr}
}

// update is client.Config.Progress: a new name (or fewer bytes, a resend)
// starts a file on the bar.
func (m *meter) update(name string, sent, total int64) {
	if !m.open || name != m.name || sent < m.last {
		m.p.Start(name, total, 0)
		m.name, m.last, m.open = name, 0, true
	}
	m.p.Add(sent - m.last)
	m.last = sent
}

// resumed is client.Config.Resumed: the file starts at at bytes of total,
// which were there already.
func (m *meter) resumed(name string, at, total int64) {
	m.p.Start(name, total, at)
	m.name, m.last, m.open = name, 0, true
}

// done ends the file on the bar.
func (m *meter) done(err error) {
	if m.open {
		m.p.Done(err)
		m.open = false
	}
}

// Write writes a notice above the bar.
func (m *meter) Write(b []byte) (int, error) { return m.p.Write(b) }

// finish stops the bar and returns the summary of what went through it:
// "12 files, 3.4 MiB in 2.1 s (1.6 MiB/s)".
func (m *meter) finish() string {
	m.done(nil)
	return m.p.Finish()
}
