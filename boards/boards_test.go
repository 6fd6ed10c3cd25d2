package boards

import (
	"bufio"
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ferry/frame"
)

// platforms are the GOOS/GOARCH pairs a profile may target.
var platforms = map[string]bool{
	"linux/arm": true, "linux/arm64": true, "linux/mips": true, "linux/mipsle": true,
	"linux/amd64": true, "windows/amd64": true, "windows/arm64": true,
	"darwin/amd64": true, "darwin/arm64": true,
}

// standardBauds are the rates every UART driver ferry meets can set.
var standardBauds = map[int]bool{
	9600: true, 19200: true, 38400: true, 57600: true, 115200: true,
	230400: true, 460800: true, 921600: true, 1000000: true, 1500000: true,
	2000000: true, 3000000: true,
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func TestProfileValues(t *testing.T) {
	for _, p := range append(Profiles(), Generic) {
		t.Run(p.Name, func(t *testing.T) {
			if !validName.MatchString(p.Name) {
				t.Errorf("name %q: want lowercase letters, digits, - and _", p.Name)
			}
			if !standardBauds[p.Baud] {
				t.Errorf("baud %d is not a standard rate", p.Baud)
			}
			if p.ChunkSize < 4<<10 || p.ChunkSize > frame.MaxChunk || p.ChunkSize%(4<<10) != 0 {
				t.Errorf("chunk size %d: want a multiple of 4 KiB in [4 KiB, %d]", p.ChunkSize, frame.MaxChunk)
			}
			// The Go runtime alone needs a few MiB; a soft limit under
			// eight chunks would make the collector run on every chunk.
			if p.MemLimit != 0 && (p.MemLimit < 8<<20 || p.MemLimit < 8*int64(p.ChunkSize)) {
				t.Errorf("memory limit %d: want 0 or at least 8 MiB and 8 chunks", p.MemLimit)
			}
			if p.SerialDevice != "" && !strings.HasPrefix(p.SerialDevice, "/dev/") {
				t.Errorf("serial device %q: want \"\" or a path under /dev/", p.SerialDevice)
			}
		})
	}
}

func TestTagsUnique(t *testing.T) {
	byTag := map[string]string{}
	for _, p := range append(Profiles(), Generic) {
		if other, ok := byTag[p.Tag()]; ok {
			t.Errorf("profiles %q and %q both claim tag %s", other, p.Name, p.Tag())
		}
		byTag[p.Tag()] = p.Name
	}
	claimed := map[string]string{} // tag -> file
	for _, f := range profileFiles(t) {
		tag, name := readProfileFile(t, f)
		if other, ok := claimed[tag]; ok {
			t.Errorf("%s and %s both claim tag %s", other, f, tag)
		}
		claimed[tag] = f
		if p, ok := Lookup(name); !ok || p.Tag() != tag {
			t.Errorf("%s: tag %s selects profile %q, whose tag is %s", f, tag, name, p.Tag())
		}
	}
	for _, p := range Profiles() {
		if _, ok := claimed[p.Tag()]; !ok {
			t.Errorf("profile %q: no file with //go:build %s", p.Name, p.Tag())
		}
	}
}

// TestEnvFiles checks that boards/<name>.env exists for every profile and
// for nothing else, and that its settings are ones the go tool accepts.
func TestEnvFiles(t *testing.T) {
	files, err := filepath.Glob("*.env")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(profiles) {
		t.Errorf("%d .env files for %d profiles", len(files), len(profiles))
	}
	for _, p := range Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			env := readEnv(t, p.Name+".env")
			tags := strings.Split(env["TAGS"], ",")
			if tags[0] != p.Tag() {
				t.Errorf("TAGS=%q, want %s first", env["TAGS"], p.Tag())
			}
			features := featureTags(t)
			for _, tag := range tags[1:] {
				if !features[tag] {
					t.Errorf("TAGS=%q: %q is not a feature tag of ferry", env["TAGS"], tag)
				}
			}
			if !platforms[env["GOOS"]+"/"+env["GOARCH"]] {
				t.Errorf("GOOS=%s GOARCH=%s is not a platform ferry targets", env["GOOS"], env["GOARCH"])
			}
			checkVariant(t, env)
		})
	}
}

func checkVariant(t *testing.T, env map[string]string) {
	t.Helper()
	arm, mips := env["GOARCH"] == "arm", strings.HasPrefix(env["GOARCH"], "mips")
	if v, ok := env["GOARM"]; ok != arm || (arm && v != "6" && v != "7") {
		t.Errorf("GOARCH=%s GOARM=%q: GOARM 6 or 7 goes with arm and only with it", env["GOARCH"], v)
	}
	// Router SoCs have no FPU: hardfloat binaries would trap on every
	// floating-point instruction into the kernel's slow emulator.
	if v, ok := env["GOMIPS"]; ok != mips || (mips && v != "softfloat") {
		t.Errorf("GOARCH=%s GOMIPS=%q: GOMIPS=softfloat goes with mips and only with it", env["GOARCH"], v)
	}
	// The one Go experiment a profile may set: the routers' size budget
	// (docs/BOARDS.md, "Size").
	if v, ok := env["GOEXPERIMENT"]; ok && v != "nogreenteagc" {
		t.Errorf("GOEXPERIMENT=%q: only nogreenteagc (the routers' size budget)", v)
	}
}

// TestSelection checks, the way the go tool will decide it, that a build for
// each profile compiles exactly its own profile file, and that an untagged
// build compiles only generic.go.
func TestSelection(t *testing.T) {
	for _, p := range Profiles() {
		env := readEnv(t, p.Name+".env")
		ctx := build.Default
		ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = env["GOOS"], env["GOARCH"], false
		ctx.BuildTags = strings.Split(env["TAGS"], ",")
		got := matching(t, &ctx)
		if len(got) != 1 || got[0] != strings.ReplaceAll(p.Name, "-", "_")+"_profile.go" {
			t.Errorf("profile %q selects %v", p.Name, got)
		}
	}
	ctx := build.Default
	if got := matching(t, &ctx); len(got) != 1 || got[0] != "generic.go" {
		t.Errorf("untagged build selects %v, want [generic.go]", got)
	}
}

func TestCurrent(t *testing.T) {
	if Current.Name != profileName {
		t.Errorf("Current is %q in a build for %q", Current.Name, profileName)
	}
}

// matching returns the profile files, generic.go included, that ctx compiles.
func matching(t *testing.T, ctx *build.Context) []string {
	t.Helper()
	var got []string
	for _, f := range append(profileFiles(t), "generic.go") {
		ok, err := ctx.MatchFile(".", f)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, f)
		}
	}
	return got
}

func profileFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*_profile.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no *_profile.go files: %v", err)
	}
	return files
}

var (
	buildLine = regexp.MustCompile(`(?m)^//go:build (\S+)$`)
	constLine = regexp.MustCompile(`(?m)^const profileName = "([^"]+)"$`)
)

// readProfileFile returns the one tag a profile file is built with and the
// profile name it selects.
func readProfileFile(t *testing.T, name string) (tag, profile string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	bm, cm := buildLine.FindSubmatch(b), constLine.FindSubmatch(b)
	if bm == nil || cm == nil {
		t.Fatalf("%s: want a single-tag //go:build line and const profileName", name)
	}
	return string(bm[1]), string(cm[1])
}

// featureTags are the build tags that leave a feature out, beside the
// profile's own tag: the second column of features.txt.
func featureTags(t *testing.T) map[string]bool {
	b, err := os.ReadFile("features.txt")
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && !strings.HasPrefix(f[0], "#") {
			if !strings.HasPrefix(f[1], "ferry_no") {
				t.Errorf("features.txt: %q: a feature's tag is ferry_no<feature>", line)
			}
			tags[f[1]] = true
		}
	}
	return tags
}

// quotedLine is a setting whose value has spaces: INLINE_ONLY, LDEXTRA.
var quotedLine = regexp.MustCompile(`^(INLINE_ONLY|LDEXTRA)="([^"$\x60\\]*)"$`)

// readEnv parses a profile's KEY=VALUE settings, ignoring # comments.
func readEnv(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := quotedLine.FindStringSubmatch(sc.Text()); m != nil {
			env[m[1]] = m[2]
			continue
		}
		line, _, _ := strings.Cut(sc.Text(), "#")
		for _, kv := range strings.Fields(line) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || !map[string]bool{"GOOS": true, "GOARCH": true, "GOARM": true, "GOMIPS": true, "GOEXPERIMENT": true, "TAGS": true}[k] {
				t.Errorf("%s: %q: want GOOS, GOARCH, GOARM, GOMIPS, GOEXPERIMENT or TAGS=value, or INLINE_ONLY or LDEXTRA=\"value\" alone on a line", name, kv)
			}
			env[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}
