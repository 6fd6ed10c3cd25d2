//go:build busybox && linux

package install

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"ferry/link/linktest"
)

// A stand-in binary installed on busybox ash at 115200 baud: the device's
// copy is the same file, executable, and "version" ran there.
func TestInstallSmall(t *testing.T) {
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 64<<10, 1)
	res, err := Run(context.Background(), d.laptop(), opt)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, opt.Bin, opt.Dest)
	if fi, err := os.Stat(opt.Dest); err != nil || fi.Mode()&0o100 == 0 {
		t.Fatalf("%s not executable: %v %v", opt.Dest, fi, err)
	}
	if res.Version != "ferry test-1 (stand-in)" {
		t.Errorf("version %q", res.Version)
	}
	if got := d.files(t); len(got) != 1 || got[0] != filepath.Base(opt.Dest) {
		t.Errorf("left on the device: %v", got)
	}
	t.Logf("%+v", *res)
}
