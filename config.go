package main

// The config file names devices, like ~/.ssh/config names hosts, so that
// "ferry send -server router FILE" knows that router is the serial line
// /dev/ttyUSB0 at 115200 baud with a pinned key, and "ferry get -server pi
// x.log" that pi is pi.local over TCP, trusted through a CA. It is read
// before connecting: a -server that names a device gets the device's
// transport and trust, and flags given on the command line win over the
// file. The format is ferry's own and small (no dependency: the router
// builds have a size budget):
//
//	# comment
//	device router              starts a block; the name is also the alias
//	    serial /dev/ttyUSB0    the key is pinned under
//	    baud 115200
//	    pin
//	device pi
//	    server pi.local        host[:port]; port 7417 if none
//	    ca ~/pki/ca.pem
//
// One keyword per line, then its value up to the end of the line (a '#'
// after a space starts a comment). Indentation is for the eye. Paths may
// start with ~/ (the home folder); relative ones are relative to the
// config file's folder. "ferry help config" lists the keywords.

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// errConfig marks a config file that cannot be used; the message names
// the file and line.
var errConfig = errors.New("config")

// device is one device block: its settings by flag name, and where each
// was given.
type device struct {
	name     string
	path     string // of the config file
	line     int
	settings map[string]string // flag name -> value ("true" for bare keywords)
	lines    map[string]int
}

// config is a parsed config file.
type config struct {
	path    string
	devices map[string]*device
}

// keyword is what a keyword of a device block means.
type keyword struct {
	name  string
	flag  string             // the client flag it sets; "" for pin
	arg   string             // what its value is, for help; "" if it takes none
	value func(string) error // checks the value; nil: the keyword takes none
	help  string
}

// keywords are the keywords of a device block, sorted by name: a slice of
// constants is data, where a map literal would be code run at start.
var keywords = []keyword{
	{"alias", "alias", "NAME", checkAlias, "pin the key under this name instead of the device's name"},
	{"baud", "baud", "RATE", checkCount, "the serial line's rate"},
	{"ca", "ca", "FILE", checkText, "trust the server through this CA certificate file (PEM)"},
	{"chunk", "chunk", "BYTES", checkCount, "chunk size to ask for"},
	{"compress", "compress", "", nil, "compress file content (the default on serial and stdio)"},
	{"link-timeout", "link-timeout", "DURATION", checkDuration, "end a serial or stdio session when the other side is silent this long"},
	{"name", "name", "NAME", checkText, "the client's name, registered on first use"},
	{"no-compress", "no-compress", "", nil, "do not compress file content"},
	{"no-resume", "no-resume", "", nil, "start every transfer from zero"},
	{"pin", "", "", nil, "trust the server by its pinned key (the default without ca)"},
	{"rtscts", "rtscts", "", nil, "RTS/CTS hardware flow control"},
	{"serial", "serial", "DEVICE", checkText, "the serial line's device, e.g. /dev/ttyUSB0"},
	{"server", "server", "HOST[:PORT]", checkText, "TCP (port 7417 if none); without server, serial or stdio the device's name is the host"},
	{"server-name", "server-name", "NAME", checkText, "the name the server's certificate must carry"},
	{"stdio", "stdio", "", nil, "the protocol on stdin/stdout (ssh, a pipe)"},
	{"timeout", "timeout", "DURATION", checkDuration, "give up when the server is silent this long (2m, 90s)"},
	{"trust-new", "trust-new", "", nil, "pin a new key without asking (compare its fingerprint first!)"},
}

// findKeyword returns the keyword named key.
func findKeyword(key string) (keyword, bool) {
	for _, kw := range keywords {
		if kw.name == key {
			return kw, true
		}
	}
	return keyword{}, false
}

// isPath reports whether the value of keyword key is a file, resolved
// against the config file's folder.
func isPath(key string) bool { return key == "serial" || key == "ca" }

// exclusive lists keywords that cannot share a block.
var exclusive = [][]string{{"server", "serial", "stdio"}, {"ca", "pin"}, {"ca", "trust-new"}, {"compress", "no-compress"}}

// defaultConfigFile is $XDG_CONFIG_HOME/ferry/config (~/.config/ferry/config).
func defaultConfigFile() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "ferry", "config")
	}
	return ""
}

// loadConfig reads and parses the config file at path. A missing file is
// an empty config unless the user named it (-config).
func loadConfig(path string, named bool) (*config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !named || path == "" {
		return &config{path: path, devices: map[string]*device{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errConfig, err)
	}
	return parseConfig(path, string(data))
}

// parseConfig parses the text of a config file; errors name path and the
// line.
func parseConfig(path, text string) (*config, error) {
	c := &config{path: path, devices: map[string]*device{}}
	var cur *device
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		key, value := splitLine(line)
		var err error
		switch {
		case key == "":
			continue
		case key == "device":
			cur, err = c.begin(value, n)
		case cur == nil:
			err = fmt.Errorf("%q outside a device block (start one with: device NAME)", key)
		default:
			err = c.set(cur, key, value, n)
		}
		if err != nil {
			return nil, c.errorf(n, "%v", err)
		}
	}
	for _, d := range c.devices {
		if err := d.check(); err != nil {
			return nil, c.errorf(d.line, "device %s: %v", d.name, err)
		}
	}
	return c, nil
}

// splitLine returns a line's keyword and value, without comments.
func splitLine(line string) (key, value string) {
	line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
	if strings.HasPrefix(line, "#") {
		return "", ""
	}
	for i := 1; i < len(line); i++ {
		if line[i] == '#' && (line[i-1] == ' ' || line[i-1] == '\t') {
			line = strings.TrimSpace(line[:i])
			break
		}
	}
	key, value, _ = strings.Cut(line, " ")
	if k, v, ok := strings.Cut(key, "\t"); ok {
		key, value = k, v+" "+value
	}
	return key, strings.TrimSpace(value)
}

// begin starts the block of device name.
func (c *config) begin(name string, line int) (*device, error) {
	if name == "" {
		return nil, errors.New("device needs a name")
	}
	if err := checkAlias(name); err != nil || strings.Contains(name, " ") {
		return nil, fmt.Errorf("device %q: a device name is letters, digits, '.', '-' and '_'", name)
	}
	if d, ok := c.devices[name]; ok {
		return nil, fmt.Errorf("device %s is already defined on line %d", name, d.line)
	}
	d := &device{name: name, path: c.path, line: line, settings: map[string]string{}, lines: map[string]int{}}
	c.devices[name] = d
	return d, nil
}

// set records keyword key with its value in d.
func (c *config) set(d *device, key, value string, line int) error {
	kw, ok := findKeyword(key)
	switch {
	case !ok:
		return fmt.Errorf("unknown keyword %q (known: %s)", key, strings.Join(keywordNames(), ", "))
	case d.lines[key] != 0:
		return fmt.Errorf("%s is already set on line %d", key, d.lines[key])
	case kw.value == nil && value != "":
		return fmt.Errorf("%s takes no value", key)
	case kw.value == nil:
		value = "true"
	case value == "":
		return fmt.Errorf("%s needs a value", key)
	default:
		if err := kw.value(value); err != nil {
			return fmt.Errorf("%s %s: %v", key, value, err)
		}
	}
	if isPath(key) {
		value = c.resolve(value)
	}
	d.settings[key], d.lines[key] = value, line
	return nil
}

// check refuses keywords that exclude each other.
func (d *device) check() error {
	for _, set := range exclusive {
		var got []string
		for _, k := range set {
			if d.lines[k] != 0 {
				got = append(got, k)
			}
		}
		if len(got) > 1 {
			return fmt.Errorf("%s exclude each other", strings.Join(got, " and "))
		}
	}
	return nil
}

// resolve expands ~/ and makes a relative path relative to the config
// file's folder.
func (c *config) resolve(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(p) || c.path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.path), p)
}

func (c *config) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%w %s:%d: %s", errConfig, c.path, line, fmt.Sprintf(format, args...))
}

func keywordNames() []string {
	var out []string
	for _, kw := range keywords {
		out = append(out, kw.name)
	}
	return out
}

func checkText(v string) error { return nil }

func checkCount(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n <= 0 {
		return errors.New("not a positive number")
	}
	return nil
}

func checkDuration(v string) error {
	if d, err := time.ParseDuration(v); err != nil || d <= 0 {
		return errors.New("not a duration (like 90s or 2m)")
	}
	return nil
}

// apply gives the flags of fs that the command line did not set the
// device's settings; -server, which named the device, takes the device's
// server line, and a -serial or -stdio given wins over the device's
// transport. The device's name is the alias its key is pinned under, and,
// with no server, serial or stdio line, the TCP host.
func (d *device) apply(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	linkGiven := given["serial"] || given["stdio"]
	given["server"] = false
	for key, value := range d.settings {
		kw, _ := findKeyword(key)
		switch {
		case kw.flag == "", given[kw.flag]:
			continue
		case linkGiven && (key == "server" || key == "serial" || key == "stdio"):
			continue
		}
		if err := fs.Set(kw.flag, value); err != nil {
			return fmt.Errorf("%w %s:%d: %s: %v", errConfig, d.path, d.lines[key], key, err)
		}
	}
	if !given["alias"] && d.settings["alias"] == "" {
		return fs.Set("alias", d.name)
	}
	return nil
}
