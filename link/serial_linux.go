package link

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

func openForFlowControl(path string) (io.Closer, error) {
	return os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
}

// enableRTSCTS sets CRTSCTS on the device through f: termios settings
// belong to the device, not to the descriptor.
func enableRTSCTS(c io.Closer) error {
	fd := int(c.(*os.File).Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Cflag |= unix.CRTSCTS
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
