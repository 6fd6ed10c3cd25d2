//go:build !unix && !windows

package fsstore

import (
	"errors"
	"syscall"
)

// diskFull reports the error of a write on a full disk.
func diskFull(err error) bool { return errors.Is(err, syscall.ENOSPC) }
