// Package crashtest is the crash harness of fsstore: a writer workload that
// prints a line for every acknowledged (durable) operation, and a Ledger that
// reads those lines and checks, after the writer was killed, that every
// acknowledged registration and upload survived byte for byte and that no
// file is listed as verified with bytes other than the recorded ones.
//
// It does not kill anything itself: the test in package fsstore runs the
// writer as a child process and SIGKILLs it at random moments.
package crashtest

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"ferry/fsstore"
)

// Writer output lines, one per event, each written with one write call:
//
//	R <client id hex> <name> <key hex>                after Register returned
//	B <client id hex> <file> <version> <size> <cksum> <sha256 hex>  before Commit
//	A <client id hex> <file> <version>                after Commit returned
const (
	workers        = 8
	filesPerClient = 2
	versions       = 3
	maxFileSize    = 16 << 10
)

// Writer opens the store in dir and registers clients and uploads files
// from several goroutines until killed or until an operation fails.
func Writer(dir string, seed uint64, out io.Writer) error {
	s, err := fsstore.Open(dir, fsstore.Options{CompactMinBytes: 32 << 10, CompactRatio: 0.5})
	if err != nil {
		return err
	}
	w := &writer{s: s, out: out, seed: seed}
	errs := make(chan error, workers)
	for i := range workers {
		go func() { errs <- w.run(i) }()
	}
	return <-errs
}

type writer struct {
	s    *fsstore.Store
	seed uint64
	mu   sync.Mutex
	out  io.Writer
}

func (w *writer) printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	w.mu.Lock()
	defer w.mu.Unlock()
	io.WriteString(w.out, line)
}

func (w *writer) run(worker int) error {
	rng := rand.New(rand.NewPCG(w.seed, uint64(worker)))
	for n := 0; ; n++ {
		name := fmt.Sprintf("s%d-w%d-c%d", w.seed, worker, n)
		key := make([]byte, 32)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		c, err := w.s.Register(name, fsstore.KeyEd25519, key, time.Now())
		if err != nil {
			return err
		}
		w.printf("R %x %s %x\n", c.ID, name, key)
		for v := 1; v <= versions; v++ {
			for j := range filesPerClient {
				if err := w.upload(rng, c.ID, fmt.Sprintf("d%d/f%d", j, j), v); err != nil {
					return err
				}
				w.s.Touch(c.ID, time.Now())
			}
		}
		if err := w.churn(rng, c.ID); err != nil {
			return err
		}
	}
}

// churn makes a folder, moves a file and a folder and removes them, none
// of it acknowledged: the Ledger checks that every verified file still has
// its recorded bytes, and fsck after the kills that the records match the
// disk.
func (w *writer) churn(rng *rand.Rand, id [16]byte) error {
	if err := w.s.Mkdir(id, "m/empty", true); err != nil {
		return err
	}
	for _, p := range []string{"m/a", "m/sub/b"} {
		if err := w.put(rng, id, p); err != nil {
			return err
		}
	}
	if err := w.s.Rename(id, "m/a", "m/sub/a2", false); err != nil {
		return err
	}
	if err := w.s.Rename(id, "m", "n/m", false); err != nil {
		return err
	}
	_, err := w.s.Remove(id, "n", true)
	return err
}

// put uploads random bytes at p, unacknowledged.
func (w *writer) put(rng *rand.Rand, id [16]byte, p string) error {
	u, err := w.s.NewUpload(id, p)
	if err != nil {
		return err
	}
	defer u.Abort()
	data := make([]byte, rng.IntN(maxFileSize))
	u.Write(data)
	u.SetMeta(0o755, time.Now().Add(-time.Hour))
	_, _, err = u.CommitWith(fsstore.CommitOptions{NoClobber: true, Now: time.Now()})
	return err
}

// upload sends one version of a file, sometimes with a resend first.
func (w *writer) upload(rng *rand.Rand, id [16]byte, name string, v int) error {
	data := make([]byte, rng.IntN(maxFileSize))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	u, err := w.s.NewUpload(id, name)
	if err != nil {
		return err
	}
	defer u.Abort()
	if rng.IntN(4) == 0 {
		u.Write(data[:len(data)/2])
		if err := u.Reset(); err != nil {
			return err
		}
	}
	for off := 0; off < len(data); off += 4096 {
		if _, err := u.Write(data[off:min(off+4096, len(data))]); err != nil {
			return err
		}
	}
	w.printf("B %x %s %d %d %d %x\n", id, name, v, u.Size(), u.Sum(), sha256.Sum256(data))
	u.SetMeta(0o644, time.Unix(int64(v), 0))
	if _, err := u.Commit(false, time.Now()); err != nil {
		return err
	}
	w.printf("A %x %s %d\n", id, name, v)
	return nil
}
