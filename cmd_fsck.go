//go:build !ferry_noadmin

package main

import (
	"fmt"
	"io"
	"os"

	"ferry/fsstore"
)

func runFsck(args []string, stderr io.Writer) error {
	fs := newFlags("fsck", "-data DIR [-repair]", stderr)
	data := fs.String("data", defaultDataDir(), "the server's data `directory`")
	repair := fs.Bool("repair", false, "make tables and files consistent, keeping every verified file (the server must be stopped)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if _, err := os.Stat(*data); err != nil {
		return fmt.Errorf("fsck: %w", err)
	}
	rep, err := fsstore.Check(*data, *repair)
	if err != nil {
		return err
	}
	rep.Write(os.Stdout)
	if rep.OK() || (*repair && rep.Repaired()) {
		return nil
	}
	return errFsckProblems
}
