package progress

import (
	"os"

	"golang.org/x/term"
)

// defaultWidth is the number of columns assumed when the terminal does not
// say.
const defaultWidth = 80

// IsTerminal reports whether f is a terminal. Commands pass its answer for
// os.Stderr as Options.Terminal. Like term.IsTerminal(int(f.Fd())), which
// it is, it puts a non-blocking f in blocking mode.
func IsTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
}

// termWidth returns the columns of the terminal fd, or 0 when it is not
// one or does not say (a pseudo-terminal nobody sized reports 0).
func termWidth(fd int) int {
	w, _, err := term.GetSize(fd)
	if err != nil {
		return 0
	}
	return w
}
