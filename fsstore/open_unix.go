//go:build unix

package fsstore

import (
	"errors"
	"os"
	"syscall"
)

// openNoFollow opens path for reading without following a symlink as its
// last component (errNotRegular) and without blocking on a FIFO.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errNotRegular
	}
	return f, err
}
