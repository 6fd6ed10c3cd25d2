//go:build unix

package server

import "syscall"

// syscallNoFollow refuses a symlink as the last component of a published
// file (one swapped in between the check and the open).
const syscallNoFollow = syscall.O_NOFOLLOW
