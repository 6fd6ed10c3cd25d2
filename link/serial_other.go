//go:build !linux

package link

import (
	"errors"
	"io"
)

var errNoRTSCTS = errors.New("not supported on this system by ferry")

func openForFlowControl(path string) (io.Closer, error) { return nil, errNoRTSCTS }
func enableRTSCTS(io.Closer) error                      { return errNoRTSCTS }
