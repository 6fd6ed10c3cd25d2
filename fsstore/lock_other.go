//go:build !unix

package fsstore

import "os"

// lockDir does nothing where flock(2) does not exist: one process per data
// directory is then the operator's job.
func lockDir(dir string) (*os.File, error) { return nil, nil }
