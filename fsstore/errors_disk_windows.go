package fsstore

import (
	"errors"
	"syscall"
)

// Windows' errors for a full disk (the syscall package does not name them).
const (
	errorHandleDiskFull syscall.Errno = 39  // ERROR_HANDLE_DISK_FULL
	errorDiskFull       syscall.Errno = 112 // ERROR_DISK_FULL
)

// diskFull reports the errors of WriteFile on a full disk.
func diskFull(err error) bool {
	return errors.Is(err, errorDiskFull) || errors.Is(err, errorHandleDiskFull) ||
		errors.Is(err, syscall.ENOSPC)
}
