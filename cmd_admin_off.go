//go:build ferry_noadmin

package main

import (
	"fmt"
	"io"

	"ferry/boards"
)

// A build with the ferry_noadmin tag leaves out the operator commands,
// ferry clients and ferry fsck (make size measures their cost so; no board
// profile does it).
func errNoAdmin(cmd string) error {
	return fmt.Errorf("this build (board profile %s) leaves out ferry %s", boards.Current.Name, cmd)
}

func runClients([]string, io.Writer) error { return errNoAdmin("clients") }

func runFsck([]string, io.Writer) error { return errNoAdmin("fsck") }
