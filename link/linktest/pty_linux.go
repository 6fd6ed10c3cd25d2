package linktest

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal whose master side is joined to one end of a
// line. Programs open SlavePath as if it were a serial device.
type PTY struct {
	Master    *os.File
	SlavePath string
	hold      *os.File // keeps the slave open so that the master never reads EIO
}

// OpenPTY creates a pseudo-terminal with its slave in raw mode.
func OpenPTY() (*PTY, error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("linktest: open /dev/ptmx: %w", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, fmt.Errorf("linktest: unlock pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, fmt.Errorf("linktest: pty number: %w", err)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	hold, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, fmt.Errorf("linktest: open %s: %w", path, err)
	}
	if err := rawMode(int(hold.Fd())); err != nil {
		master.Close()
		hold.Close()
		return nil, fmt.Errorf("linktest: raw mode on %s: %w", path, err)
	}
	return &PTY{Master: master, SlavePath: path, hold: hold}, nil
}

// Attach copies bytes between the master and end e until either closes.
func (p *PTY) Attach(e io.ReadWriter) {
	go io.Copy(e, p.Master)
	go io.Copy(p.Master, e)
}

// Close closes both sides.
func (p *PTY) Close() error {
	p.hold.Close()
	return p.Master.Close()
}

func rawMode(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
