//go:build !linux

package link

import "os"

// makeRaw leaves the terminal alone on systems other than Linux.
func makeRaw(*os.File) func() { return func() {} }
