package main

import (
	"context"
	"errors"
	"io"
	"log"

	"ferry/fsstore"
)

func startClassic(ctx context.Context, f *serveFlags, st *fsstore.Store, l *log.Logger) error {
	return errors.New("classic: pending")
}
func sendClassic(f *sendFlags, files []string, stderr io.Writer) error {
	return errors.New("classic: pending")
}
func runPorts(args []string, stderr io.Writer) error { return errors.New("pending") }
