//go:build ferry_noclassic

package main

import (
	"context"
	"fmt"
	"io"
	"log"

	"ferry/boards"
	"ferry/fsstore"
)

// The router profiles (boards/ath79.env, boards/ramips-mt7621.env) build
// with the ferry_noclassic tag: the classic protocol (RSA, CBC, the deployed
// clients' files) costs about 190 KB, which their 5 MiB budget has no room
// for, and a router has no deployed classic clients to serve.
func errNoClassic() error {
	return fmt.Errorf("this build (board profile %s) leaves out the classic protocol; use a laptop or Pi build for -classic", boards.Current.Name)
}

func startClassic(context.Context, *serveFlags, *fsstore.Store, *log.Logger) error {
	return errNoClassic()
}

func sendClassic(*sendFlags, []string, io.Writer) error { return errNoClassic() }
