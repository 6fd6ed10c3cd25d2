//go:build !ferry_noclassic

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"ferry/classic"
	"ferry/fsstore"
	"ferry/link"
)

const classicWarning = "WARNING: the classic (version 3) protocol is on: it does not authenticate the server, encrypts with an all-zero IV and has no MAC; use it only with deployed clients that speak nothing else"

// startClassic serves the classic protocol on f.classic beside the secure
// listener, into the same store, until ctx is done.
func startClassic(ctx context.Context, f *serveFlags, store *fsstore.Store, logger *log.Logger) error {
	l, err := link.Listen(f.classic)
	if err != nil {
		return fmt.Errorf("classic listener: %w", err)
	}
	logger.Print(classicWarning)
	logger.Printf("serving the classic protocol on %s", l.Addr())
	srv := &classic.Server{Store: store, MaxFileSize: f.maxFile, Timeout: f.idle, Logf: logger.Printf, AckResend: f.classicAckResend}
	go func() {
		if err := srv.Serve(ctx, l); err != nil {
			logger.Printf("classic: %v", err)
		}
	}()
	return nil
}

// sendClassic is "ferry send -classic": with FILEs it uploads them over the
// classic protocol; without, it acts as the deployed C++ client, reading
// transfer.info, me.info and priv.key from the working directory.
func sendClassic(f *sendFlags, files []string, stderr io.Writer) error {
	fmt.Fprintf(stderr, "ferry: %s\n", classicWarning)
	logf := func(format string, args ...any) {
		if !f.quiet {
			fmt.Fprintf(stderr, "ferry: "+format+"\n", args...)
		}
	}
	ctx := context.Background()
	if len(files) == 0 {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		res, err := classic.RunInfoFiles(ctx, wd)
		return classicResult(res, err)
	}
	if f.classicDir == "" {
		return errors.New("-classic needs -classic-dir DIR for me.info and priv.key (or no FILE, to use transfer.info in the working directory)")
	}
	if err := os.MkdirAll(f.classicDir, 0o700); err != nil {
		return err
	}
	for _, path := range files {
		cfg := classic.ClientConfig{Addr: f.server, Name: f.name, Dir: f.classicDir, Timeout: f.timeout, Logf: logf}
		res, err := classic.Send(ctx, cfg, path)
		if err := classicResult(res, err); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

func classicResult(res classic.Result, err error) error {
	if err != nil {
		return err
	}
	fmt.Printf("stored %s (classic): %d bytes, cksum %d, %d attempt(s), client %s\n", res.FileName, res.Size, res.Cksum, res.Attempts, res.ClientID)
	return nil
}
