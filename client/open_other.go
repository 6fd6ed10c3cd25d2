//go:build !linux || ferry_nofolders

package client

import "os"

// openFile opens a local file to send.
func openFile(path string) (*os.File, error) { return os.Open(path) }
