package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"ferry/fsstore"
)

// errFsckProblems means fsck found problems it did not (or was not asked
// to) repair.
var errFsckProblems = errors.New("fsck found problems; run with -repair to fix them (stop the server first)")

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
