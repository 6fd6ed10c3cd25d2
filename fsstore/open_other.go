//go:build !unix

package fsstore

import (
	"os"
)

// openNoFollow opens path for reading, refusing a symlink as its last
// component (errNotRegular). Without O_NOFOLLOW, it checks with Lstat
// first and compares after opening.
func openNoFollow(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if fi2, err := f.Stat(); err != nil || !os.SameFile(fi, fi2) {
		f.Close()
		return nil, errNotRegular
	}
	return f, nil
}
