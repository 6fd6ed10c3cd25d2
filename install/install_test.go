package install

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPickBoard(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   info
		want string // "" = ErrUnknownMachine
	}{
		{"x86_64", info{machine: "x86_64", elf: "le64"}, "x86_64"},
		{"aarch64", info{machine: "aarch64", elf: "le64"}, "arm64"},
		{"aarch64 32-bit userland", info{machine: "aarch64", elf: "le32"}, "arm64"},
		{"pi 3 32-bit", info{machine: "armv7l", elf: "le32", cpu: "half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32"}, "pi-2-3"},
		{"pi zero", info{machine: "armv6l", elf: "le32", cpu: "half thumb fastmult vfp edsp java tls"}, "pi-zero"},
		{"armv7 vfpv2 only", info{machine: "armv7l", elf: "le32", cpu: "half thumb vfp edsp"}, "pi-zero"},
		{"armv6 without vfp", info{machine: "armv6l", elf: "le32", cpu: "half thumb edsp"}, ""},
		{"armv5", info{machine: "armv5tel", elf: "le32", cpu: "swp half thumb fastmult edsp"}, ""},
		{"ath79", info{machine: "mips", elf: "be32", arch: "mips_24kc"}, "ath79"},
		{"mt7621", info{machine: "mips", elf: "le32", arch: "mipsel_24kc"}, "ramips-mt7621"},
		{"mips64 kernel, 32-bit big-endian userland", info{machine: "mips64", elf: "be32"}, "ath79"},
		{"mips64 userland", info{machine: "mips64", elf: "be64"}, ""},
		{"mips without elf", info{machine: "mips", elf: "none"}, ""},
		{"sparc64", info{machine: "sparc64", elf: "be64"}, ""},
		{"i686", info{machine: "i686", elf: "le32"}, ""},
		{"empty", info{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickBoard(tc.in)
			if tc.want == "" {
				if !errors.Is(err, ErrUnknownMachine) {
					t.Fatalf("got %q, %v; want ErrUnknownMachine", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseInfo(t *testing.T) {
	in := parseInfo([]string{"m mips", "elf be32", "cpu ", "arch mips_24kc", "dir ok", "free 12345",
		"have 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  -"})
	want := info{machine: "mips", elf: "be32", arch: "mips_24kc", dirOK: true, freeKiB: 12345,
		have: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	if in != want {
		t.Fatalf("got %+v\nwant %+v", in, want)
	}
	if s := in.String(); s != "mips, big-endian 32-bit (OpenWrt mips_24kc)" {
		t.Errorf("String() = %q", s)
	}
	if in := parseInfo([]string{"m x86_64", "free "}); in.freeKiB != -1 || in.dirOK {
		t.Errorf("unknown free space: %+v", in)
	}
}

func TestLastPrompt(t *testing.T) {
	for out, want := range map[string]string{
		"\r\nOpenWrt login: ": "login",
		"router login:":       "login",
		"Password: ":          "password",
		"\r\nPASSWORD:\r\n":   "password",
		"Please press Enter to activate this console. ": "enter",
		"root@OpenWrt:~# ":       "",
		"[    2.1] usb 1-1: new": "",
		"":                       "",
	} {
		if got := lastPrompt([]byte(out)); got != want {
			t.Errorf("lastPrompt(%q) = %q, want %q", out, got, want)
		}
	}
}

func TestGaps(t *testing.T) {
	for _, tc := range []struct {
		kept []piece
		size int
		want string
	}{
		{nil, 10, "[{0 10}]"},
		{[]piece{{0, 10}}, 10, "[]"},
		{[]piece{{0, 4}}, 10, "[{4 6}]"},
		{[]piece{{2, 3}, {7, 3}}, 10, "[{0 2} {5 2}]"},
		{nil, 0, "[]"},
	} {
		if got := fmt.Sprint(gaps(tc.kept, tc.size)); got != tc.want {
			t.Errorf("gaps(%v, %d) = %s, want %s", tc.kept, tc.size, got, tc.want)
		}
	}
}

func TestParsePiece(t *testing.T) {
	p := piece{16384, 8192}
	if got, ok := parsePiece(p.name() + ".b"); !ok || got != p {
		t.Fatalf("parsePiece(%q) = %v, %v", p.name(), got, ok)
	}
	for _, bad := range []string{"", "1-2.b", "000000001x-2.b", "0000000001-0.b", "0000000001.b", "0000000001--2.b"} {
		if _, ok := parsePiece(bad); ok {
			t.Errorf("parsePiece(%q) accepted", bad)
		}
	}
}

// What the device sources: no line that ends a capture early, nothing
// that breaks the awk program's quotes, no line near the limit of a
// terminal's line buffer.
func TestScript(t *testing.T) {
	s := script()
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "#") || len(l) > 400 {
			t.Errorf("line %q", clip(l, 60))
		}
	}
	var code strings.Builder
	writeCode(&code, decodeAWK)
	if strings.Contains(code.String(), "'") {
		t.Error("decode.awk holds a single quote")
	}
	if !strings.HasPrefix(s, "FYAWK='") {
		t.Error("the decoder does not come first")
	}
}

// The longest command typed at the prompt fits OpenWrt's line editor (512)
// with room to spare.
func TestCommandLength(t *testing.T) {
	dest := "/" + strings.Repeat("d", 99)
	if err := checkDest(dest); err != nil {
		t.Fatal(err)
	}
	if n := len(captureCommand(99999, dest+".fy.sh")); n > 400 {
		t.Errorf("capture command of %d bytes", n)
	}
	hash := strings.Repeat("f", 64)
	if n := len("fyP 99999 " + piece{1 << 30, maxPiece}.name() + " " + hash); n > 200 {
		t.Errorf("fyP of %d bytes", n)
	}
}

func TestCheckDest(t *testing.T) {
	for _, ok := range []string{"/tmp/ferry", "/mnt/sda1/ferry-bin/ferry", "/usr/bin/ferry.new"} {
		if err := checkDest(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ferry", "/tmp/", "/tmp/a b", "/tmp/$(x)", "/tmp/a;b", "/tmp/../etc/x", "/" + strings.Repeat("a", 120)} {
		if err := checkDest(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
