package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodConfig = `# devices
device router
	serial /dev/ttyUSB0
	baud 115200   # the console's rate
	pin

device pi
    server pi.local
    ca ~/pki/ca.pem
    server-name pi.local

device relative
	serial tty/S1
	alias rel-1
	name my-laptop
	timeout 30s
	trust-new
`

func TestParseConfig(t *testing.T) {
	home, _ := os.UserHomeDir()
	c, err := parseConfig("/etc/ferry/config", strings.ReplaceAll(goodConfig, "\n", "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dev, key, want string }{
		{"router", "serial", "/dev/ttyUSB0"},
		{"router", "baud", "115200"},
		{"router", "pin", "true"},
		{"pi", "server", "pi.local"},
		{"pi", "ca", filepath.Join(home, "pki/ca.pem")},
		{"pi", "server-name", "pi.local"},
		{"relative", "serial", "/etc/ferry/tty/S1"},
		{"relative", "alias", "rel-1"},
		{"relative", "trust-new", "true"},
	} {
		d := c.devices[tc.dev]
		if d == nil || d.settings[tc.key] != tc.want {
			t.Errorf("%s %s: got %+v, want %q", tc.dev, tc.key, d, tc.want)
		}
	}
	if len(c.devices) != 3 {
		t.Errorf("%d devices", len(c.devices))
	}
}

// TestConfigErrors: each mistake is refused with its file and line.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"outside a block", "baud 9600\n", "c:1: \"baud\" outside a device block"},
		{"unknown keyword", "device a\n  serial /dev/x\n  speed 9600\n", "c:3: unknown keyword \"speed\""},
		{"no name", "\n\ndevice\n", "c:3: device needs a name"},
		{"bad name", "device a:b\n", "c:1: device \"a:b\""},
		{"name with a space", "device a b\n", "c:1: device \"a b\""},
		{"twice", "device a\ndevice a\n", "c:2: device a is already defined on line 1"},
		{"keyword twice", "device a\nbaud 1\nbaud 2\n", "c:3: baud is already set on line 2"},
		{"no value", "device a\nserial\n", "c:2: serial needs a value"},
		{"value not taken", "device a\npin yes\n", "c:2: pin takes no value"},
		{"bad number", "device a\nbaud fast\n", "c:2: baud fast: not a positive number"},
		{"negative", "device a\nchunk -1\n", "c:2: chunk -1: not a positive number"},
		{"bad duration", "device a\ntimeout 5\n", "c:2: timeout 5: not a duration"},
		{"bad alias", "device a\nalias x/y\n", "c:2: alias x/y: -alias"},
		{"two transports", "\ndevice a\nserver h\nserial /dev/x\n", "c:2: device a: server and serial exclude each other"},
		{"ca and pin", "device a\nca x.pem\npin\n", "c:1: device a: ca and pin exclude each other"},
		{"ca and trust-new", "device a\nca x.pem\ntrust-new\n", "ca and trust-new exclude each other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig("c", tc.text)
			if err == nil || !errors.Is(err, errConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoadConfigMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config")
	if c, err := loadConfig(p, false); err != nil || len(c.devices) != 0 {
		t.Fatalf("missing default file: %v", err)
	}
	if _, err := loadConfig(p, true); !errors.Is(err, errConfig) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing -config file: %v", err)
	}
}

// TestDeviceApply: a device fills in the flags the command line left
// unset; flags given win, a transport given wins over the device's.
func TestDeviceApply(t *testing.T) {
	c, err := parseConfig("/c", goodConfig+"device bare\n\tbaud 9600\n")
	if err != nil {
		t.Fatal(err)
	}
	parse := func(dev string, args ...string) *clientFlags {
		t.Helper()
		var f clientFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.register(fs)
		if err := fs.Parse(append([]string{"-server", dev}, args...)); err != nil {
			t.Fatal(err)
		}
		if err := c.devices[dev].apply(fs); err != nil {
			t.Fatal(err)
		}
		return &f
	}
	f := parse("router")
	if f.transport.serial != "/dev/ttyUSB0" || f.transport.baud != 115200 || f.alias != "router" || f.ca != "" {
		t.Errorf("router: %+v", f)
	}
	f = parse("router", "-baud", "9600", "-alias", "r2", "-trust-new")
	if f.transport.serial != "/dev/ttyUSB0" || f.transport.baud != 9600 || f.alias != "r2" || !f.trustNew {
		t.Errorf("router with flags: %+v", f)
	}
	f = parse("router", "-stdio")
	if f.transport.serial != "" || !f.transport.stdio {
		t.Errorf("router with -stdio: %+v", f.transport)
	}
	f = parse("pi")
	if f.server != "pi.local" || f.address() != "pi.local:7417" || !strings.HasSuffix(f.ca, "pki/ca.pem") || f.serverName != "pi.local" {
		t.Errorf("pi: %+v", f)
	}
	f = parse("pi", "-ca", "other.pem")
	if f.ca != "other.pem" || f.server != "pi.local" {
		t.Errorf("pi with -ca: %+v", f)
	}
	f = parse("bare")
	if f.server != "bare" || f.address() != "bare:7417" || f.transport.baud != 9600 {
		t.Errorf("a device without a transport is a host: %+v", f)
	}
	f = parse("relative")
	if f.name != "my-laptop" || f.timeout.String() != "30s" || !f.trustNew || f.alias != "rel-1" {
		t.Errorf("relative: %+v", f)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add(goodConfig)
	f.Add("device a\n\tserial x # c\n\tbaud 1\n")
	f.Add("device\tb\nca\t\t~/x\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := parseConfig("/c", text)
		if err != nil {
			if !errors.Is(err, errConfig) || !strings.HasPrefix(err.Error(), "config /c:") {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		for name, d := range c.devices {
			if checkAlias(name) != nil {
				t.Fatalf("device name %q accepted", name)
			}
			for k, v := range d.settings {
				if kw, ok := findKeyword(k); !ok || v == "" || kw.value != nil && kw.value(v) != nil && !isPath(k) {
					t.Fatalf("device %s: %s %q accepted", name, k, v)
				}
			}
		}
	})
}
