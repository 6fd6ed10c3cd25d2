//go:build unix

package fsstore

import (
	"os"
	"syscall"
)

// mapFile maps the first size bytes of f read-only, or reads them where the
// mapping fails (a table larger than a 32-bit address space). The mapping
// stays valid after f is closed and after the file is renamed over. Reading
// a mapped page beyond the end of the file would fault: the index only
// reads records it found intact, all before any torn tail that Open cuts.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	if size == 0 {
		return nil, nil, nil
	}
	if int64(int(size)) == size && !forceRead {
		b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
		if err == nil {
			return b, func() error { return syscall.Munmap(b) }, nil
		}
	}
	return readFile(f, size)
}
