package fsstore

import "errors"

// ErrDiskFull: an append or a commit failed because the file system is
// full (ENOSPC) or the quota is used up (EDQUOT). Nothing was acknowledged;
// the store takes writes again once space is freed, without a restart.
// Errors that wrap it also wrap the system's error.
var ErrDiskFull = errors.New("fsstore: disk full")

// IsDiskFull reports whether err is ErrDiskFull or the system's error for a
// full disk or quota, as a failed write of an upload's bytes returns it.
func IsDiskFull(err error) bool {
	return errors.Is(err, ErrDiskFull) || diskFull(err)
}
