//go:build linux && !ferry_nofolders

package client

import (
	"os"
	"syscall"
)

// openFile opens a local file to send, with open(2) and os.NewFile:
// os.Open registers a file with the poller and takes a regular file out
// again (four fcntl and an epoll_ctl per file of send -r), and what is
// sent must be a regular file, which the poller cannot wait on anyway.
func openFile(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		switch err {
		case nil:
			return os.NewFile(uintptr(fd), path), nil
		case syscall.EINTR:
			continue
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
}
