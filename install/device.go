package install

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// deviceSh is the device side (see its first lines).
//
//go:embed device.sh
var deviceSh string

// script returns what the device sources: the decoder in FYAWK, then
// device.sh, without comments, blank lines and indentation (fewer bytes on
// the line, and no line that could look like the end line "#E").
func script() string {
	var b strings.Builder
	b.WriteString("FYAWK='")
	writeCode(&b, decodeAWK)
	b.WriteString("'\n")
	b.WriteString("fyPS1=${fyPS1-$PS1} fyPS2=${fyPS2-$PS2}\nPS1='fy> ' PS2='fy2> '\n")
	writeCode(&b, deviceSh)
	return b.String()
}

func writeCode(b *strings.Builder, src string) {
	for _, l := range strings.Split(src, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// info is what fyI reports about the device.
type info struct {
	machine string // uname -m
	elf     string // "le32", "be32", "le64", "be64", "none", "??"
	cpu     string // the Features line of /proc/cpuinfo, if any
	arch    string // OpenWrt's DISTRIB_ARCH, if any
	dirOK   bool   // the destination's folder exists and is writable
	freeKiB int64  // free space there, -1 if unknown
	have    string // sha256 of a file already at the destination
}

func parseInfo(lines []string) info {
	in := info{freeKiB: -1}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		v = strings.TrimSpace(v)
		switch k {
		case "m":
			in.machine = v
		case "elf":
			in.elf = v
		case "cpu":
			in.cpu = v
		case "arch":
			in.arch = v
		case "dir":
			in.dirOK = v == "ok"
		case "free":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				in.freeKiB = n
			}
		case "have":
			in.have, _, _ = strings.Cut(v, " ")
		}
	}
	return in
}

// String describes the device for messages: "mips, big-endian 32-bit (OpenWrt mips_24kc)".
func (in info) String() string {
	s := in.machine
	switch in.elf {
	case "le32", "le64":
		s += ", little-endian " + in.elf[2:] + "-bit"
	case "be32", "be64":
		s += ", big-endian " + in.elf[2:] + "-bit"
	}
	if in.arch != "" {
		s += " (OpenWrt " + in.arch + ")"
	}
	return s
}

// pickBoard returns the board profile (dist/ferry-<board>) whose build
// runs on the device, from uname -m, the byte order and word size of its
// ELF files, and for ARM its CPU features (the builds use the VFP). MIPS
// builds are soft-float: they run with an FPU or without.
func pickBoard(in info) (string, error) {
	switch m := in.machine; m {
	case "x86_64", "amd64":
		return "x86_64", nil
	case "aarch64", "arm64":
		return "arm64", nil
	case "armv6l", "armv7l", "armv8l":
		if m != "armv6l" && cpuHas(in.cpu, "vfpv3", "vfpv4", "vfpd32") {
			return "pi-2-3", nil
		}
		if cpuHas(in.cpu, "vfp") {
			return "pi-zero", nil
		}
		return "", fmt.Errorf("%w: %s without VFP (/proc/cpuinfo says %q); the ARM builds need one", ErrUnknownMachine, m, in.cpu)
	case "mips", "mips64":
		switch in.elf {
		case "be32":
			return "ath79", nil
		case "le32":
			return "ramips-mt7621", nil
		}
		return "", fmt.Errorf("%w: %s with %s programs; the MIPS builds are 32-bit: ath79 (big-endian), ramips-mt7621 (little-endian)", ErrUnknownMachine, m, in.elf)
	}
	return "", fmt.Errorf("%w: uname -m says %q; there are builds for x86_64, aarch64, armv6l and armv7l with VFP, 32-bit mips of either byte order; -board NAME or -bin FILE choose one yourself", ErrUnknownMachine, in.machine)
}

// cpuHas reports whether a CPU feature of features starts with one of
// names ("vfpv3d16" is a "vfpv3").
func cpuHas(features string, names ...string) bool {
	for f := range strings.FieldsSeq(features) {
		for _, n := range names {
			if strings.HasPrefix(f, n) {
				return true
			}
		}
	}
	return false
}
