//go:build ferry_noshell

package main

import (
	"fmt"
	"io"

	"ferry/boards"
)

// A build with the ferry_noshell tag leaves out "ferry shell" (make size
// measures its cost so; no board profile does it).
func runShell([]string, io.Writer) error {
	return fmt.Errorf("this build (board profile %s) leaves out ferry shell; the one-shot commands (ferry ls, get, send, rm, mv, mkdir) do the same", boards.Current.Name)
}
