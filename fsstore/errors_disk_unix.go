//go:build unix

package fsstore

import (
	"errors"
	"syscall"
)

// diskFull reports the errors of write(2) and fsync(2) on a full file
// system or an exhausted quota.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
