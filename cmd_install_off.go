//go:build ferry_noinstall

package main

import (
	"fmt"
	"io"

	"ferry/boards"
)

// The router profiles (boards/ath79.env, boards/ramips-mt7621.env) build
// with the ferry_noinstall tag: "ferry install" puts ferry onto a device
// from a laptop, through the device's console, and is never run on the
// device itself (docs/BOARDS.md, "Size"). cmd_install.go, which has the
// command, is built with !ferry_noinstall.
func runInstall([]string, io.Writer) error {
	return fmt.Errorf("this build (board profile %s) leaves out ferry install, which runs on the laptop: install from there", boards.Current.Name)
}
