//go:build !cgo

package link

// ListPorts lists the serial ports of the system. Without cgo, macOS gives
// no USB details. Devices it misses can still be opened by path.
func ListPorts() ([]PortInfo, error) { return namesOnly() }
