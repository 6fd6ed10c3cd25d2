//go:build ferry_ath79 || ferry_ramips_mt7621

package install

import (
	"context"
	"io"
)

// The router builds leave install out: it costs them about 230 KB of
// their 5 MiB (the compressor, the console driver, the device-side
// scripts), and a router is what ferry is installed on, not from.
func run(context.Context, io.ReadWriter, Options) (*Result, error) { return nil, ErrNotBuilt }
