//go:build unix

package fsstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive advisory lock on DIR/lock, so that two servers,
// or a server and fsck -repair, never write the same tables. The kernel
// releases it when the process dies.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("fsstore: lock data directory: %w", err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("%w: %s (stop the server first)", ErrLocked, dir)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fsstore: lock data directory: %w", err)
	}
	return f, nil
}
