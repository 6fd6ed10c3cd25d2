//go:build !unix

package server

// freeSpace is unknown here.
func freeSpace(dir string) (uint64, bool) { return 0, false }
