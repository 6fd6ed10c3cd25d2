//go:build !unix

package fsstore

import "os"

// mapFile reads the first size bytes of f where mmap is not available.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	return readFile(f, size)
}
