// Package boards names the machines ferry is built for and the defaults that
// suit each of them: the serial device, the baud rate, the upload chunk size
// and the soft memory limit.
//
// A build selects its profile with one build tag, ferry_<name> with every
// "-" of the name written "_" (ferry_ath79, ferry_pi_zero); a build without
// such a tag gets Generic. The cross-compilation settings of each profile
// (GOOS, GOARCH, GOARM, GOMIPS, the tag) live beside it in boards/<name>.env,
// which the Makefile reads. The package only supplies defaults: it opens no
// device and sets no limit; main applies them to its flags.
package boards

import "strings"

// Profile is the set of defaults that suit one kind of machine.
type Profile struct {
	Name         string // e.g. "ath79"; also the suffix of dist/ferry-<name>
	SerialDevice string // default -serial device, "" if the board has no usual one
	Baud         int    // default baud rate of the serial line
	ChunkSize    int    // default upload chunk size in bytes over TCP, at most frame.MaxChunk
	MemLimit     int64  // default soft memory limit in bytes (GOMEMLIMIT), 0 = none
}

// Tag returns the build tag that selects p: "ferry_" and the name with "-"
// replaced by "_", since build tags cannot contain "-".
func (p Profile) Tag() string {
	return "ferry_" + strings.ReplaceAll(p.Name, "-", "_")
}

const (
	kiB = 1 << 10
	miB = 1 << 20
)

// Generic is the profile of a build without a ferry_* tag, such as a plain
// "go build" on a developer's machine: no serial default, no memory limit.
var Generic = Profile{Name: "generic", Baud: 115200, ChunkSize: 1 * miB}

// profiles are the boards of "make boards", in the order of docs/BOARDS.md.
//
// The routers (ath79, ramips-mt7621) have 64 to 256 MiB of RAM shared with
// the kernel and the network stack, so they send small chunks and keep the Go
// heap under a tight soft limit; a device's serial line is its UART (ttyS0
// on the routers, serial0 on a Pi, the USB gadget port ttyGS0 on a Pi Zero).
// Laptops get no serial default: USB adapters are named differently on
// every machine.
var profiles = []Profile{
	{Name: "pi-zero", SerialDevice: "/dev/ttyGS0", Baud: 115200, ChunkSize: 256 * kiB, MemLimit: 64 * miB},
	{Name: "pi-2-3", SerialDevice: "/dev/serial0", Baud: 115200, ChunkSize: 512 * kiB, MemLimit: 128 * miB},
	{Name: "arm64", SerialDevice: "/dev/serial0", Baud: 115200, ChunkSize: 1 * miB, MemLimit: 256 * miB},
	{Name: "ath79", SerialDevice: "/dev/ttyS0", Baud: 115200, ChunkSize: 64 * kiB, MemLimit: 12 * miB},
	{Name: "ramips-mt7621", SerialDevice: "/dev/ttyS0", Baud: 115200, ChunkSize: 128 * kiB, MemLimit: 16 * miB},
	{Name: "x86_64", SerialDevice: "/dev/ttyUSB0", Baud: 115200, ChunkSize: 1 * miB},
	{Name: "windows-amd64", Baud: 115200, ChunkSize: 1 * miB},
	{Name: "windows-arm64", Baud: 115200, ChunkSize: 1 * miB},
	{Name: "darwin-amd64", Baud: 115200, ChunkSize: 1 * miB},
	{Name: "darwin-arm64", Baud: 115200, ChunkSize: 1 * miB},
}

// Current is the profile this binary was built for.
var Current = mustLookup(profileName)

// Profiles returns every board profile (not Generic), in a new slice.
func Profiles() []Profile {
	return append([]Profile(nil), profiles...)
}

// Lookup returns the profile called name; Generic is found by its name too.
func Lookup(name string) (Profile, bool) {
	if name == Generic.Name {
		return Generic, true
	}
	for _, p := range profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

func mustLookup(name string) Profile {
	p, ok := Lookup(name)
	if !ok {
		panic("boards: internal error: no profile named " + name)
	}
	return p
}
