package link

import (
	"fmt"
	"io"

	"go.bug.st/serial"
)

// OpenSerial opens a serial device 8N1 at cfg.Baud (115200 if 0), any
// rate the OS accepts, in raw mode without flow control unless
// cfg.RTSCTS. Reads block until data arrives; a (0, nil) read, which
// go.bug.st/serial returns after a read timeout, is handled by the link.
func OpenSerial(path string, cfg PortConfig) (io.ReadWriteCloser, error) {
	baud := cfg.Baud
	if baud <= 0 {
		baud = 115200
	}
	var hold io.Closer
	if cfg.RTSCTS {
		// go.bug.st/serial turns RTS/CTS off and then locks the device
		// (TIOCEXCL): keep a descriptor of our own to turn it on after.
		h, err := openForFlowControl(path)
		if err != nil {
			return nil, fmt.Errorf("link: open %s: %w", path, err)
		}
		hold = h
		defer hold.Close()
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("link: open %s at %d baud: %w", path, baud, err)
	}
	if hold != nil {
		if err := enableRTSCTS(hold); err != nil {
			p.Close()
			return nil, fmt.Errorf("link: %s: hardware flow control: %w", path, err)
		}
	}
	return &serialPort{Port: p, name: path}, nil
}

// serialPort names a go.bug.st/serial port for Listener.Addr.
type serialPort struct {
	serial.Port
	name string
}

func (p *serialPort) Name() string { return p.name }

// PortInfo describes a serial port found by ListPorts.
type PortInfo struct {
	Name         string // device path, like /dev/ttyUSB0
	VID, PID     string // USB vendor and product IDs, hex, if IsUSB
	SerialNumber string // USB serial number, if known
	Product      string // USB product string, if known
	IsUSB        bool
}

// namesOnly lists ports by name, without USB details.
func namesOnly() ([]PortInfo, error) {
	names, err := serial.GetPortsList()
	if err != nil {
		return nil, fmt.Errorf("link: list serial ports: %w", err)
	}
	ports := make([]PortInfo, 0, len(names))
	for _, n := range names {
		ports = append(ports, PortInfo{Name: n})
	}
	return ports, nil
}
