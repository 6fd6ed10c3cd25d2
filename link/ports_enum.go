//go:build !darwin || cgo

package link

import "go.bug.st/serial/enumerator"

// ListPorts lists the serial ports of the system, with USB details where
// the OS gives them. Devices it misses can still be opened by path.
func ListPorts() ([]PortInfo, error) {
	details, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return namesOnly()
	}
	ports := make([]PortInfo, 0, len(details))
	for _, d := range details {
		ports = append(ports, PortInfo{Name: d.Name, VID: d.VID, PID: d.PID,
			SerialNumber: d.SerialNumber, Product: d.Product, IsUSB: d.IsUSB})
	}
	return ports, nil
}
