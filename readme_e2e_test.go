//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ferry/link/linktest"
)

// TestREADMEssh runs the README's ssh example as written, with the
// router's side run locally instead of through ssh: the first send shows
// the same fingerprint the server printed and stores nothing; once pinned
// with -trust-new, the file is stored (issue 17 item 8).
func TestREADMEssh(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "# upload to a router you reach with ssh, through ssh's own channel\n"
	start := strings.Index(string(readme), marker)
	if start < 0 {
		t.Fatal("no ssh example in README.md")
	}
	block := string(readme[start:])
	block = block[:strings.Index(block, "```")]
	dir := t.TempDir()
	file := filepath.Join(dir, "report.pdf")
	want := writeRandom(t, file, 3000)
	var script []string
	for _, line := range strings.Split(block, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.ReplaceAll(line, "ssh root@router ", "")
		line = strings.ReplaceAll(line, "/tmp/", dir+"/")
		line = strings.ReplaceAll(line, " FILE ", " "+file+" ")
		for _, cmd := range []string{"serve", "send"} {
			line = strings.ReplaceAll(line, "ferry "+cmd+" ", ferryBin+" "+cmd+" ")
		}
		script = append(script, line, `echo "exit $?" >&2`)
		if !strings.HasSuffix(line, "&") {
			script = append(script, "wait") // the user reads the output before the next line
		}
	}
	script = append(script, "wait")
	t.Logf("script:\n%s", strings.Join(script, "\n"))
	cmd := exec.Command("sh", "-c", strings.Join(script, "\n"))
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	log := string(out)
	t.Log(log)
	served := fingerprintRE.FindString(log[max(0, strings.Index(log, "server key fingerprint")):])
	offered, _, _ := strings.Cut(log[max(0, strings.Index(log, "server key not known")):], "\n")
	if served == "" || !strings.HasPrefix(offered, "server key not known") || !strings.Contains(offered, served) {
		t.Fatalf("the first send does not show the fingerprint the server printed (%q)", served)
	}
	exits := strings.Count(log, "exit ")
	if exits < 3 || !strings.Contains(log, "exit 3\n") || !strings.HasSuffix(strings.TrimSpace(log), "exit 0") {
		t.Fatalf("exit codes in the log: want the first send 3, the last 0")
	}
	if got := storedCopy(t, filepath.Join(dir, "ferry"), "report.pdf"); string(got) != string(want) {
		t.Fatal("the file was not stored")
	}
	kh, _ := os.ReadFile(filepath.Join(dir, "xdg", "ferry", "known_hosts"))
	if !strings.HasPrefix(string(kh), "router "+served) {
		t.Fatalf("known_hosts: %q", kh)
	}
}

// readmeBlock returns the code block that follows marker in README.md.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(readme), marker)
	if i < 0 {
		t.Fatalf("README.md has no %q", marker)
	}
	rest := string(readme[i:])
	rest = rest[strings.Index(rest, "```"):] // ```sh, ```console or ```
	rest = rest[strings.Index(rest, "\n")+1:]
	return rest[:strings.Index(rest, "```")]
}

// TestREADMEFirstSteps runs the README's first transfer and its "both
// ways" examples as written, in a fresh folder with bin/ferry (not on the
// PATH until the block's first line puts it there), with the connection
// flags of the first block added to the commands of the second (which
// leaves them out) and a free port for 7417.
func TestREADMEFirstSteps(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.Symlink(ferryBin, filepath.Join(bin, "ferry"))
	addr := freePort(t)
	conn := "-server " + addr + " -ca ./srv/ca.pem -state ./st"
	var script []string
	for _, line := range strings.Split(readmeBlock(t, "Your first transfer"), "\n") {
		line, _, _ = strings.Cut(line, "  #")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		line = strings.ReplaceAll(line, "127.0.0.1:7417", addr)
		line = strings.ReplaceAll(line, "-server 127.0.0.1 ", "-server "+addr+" ")
		line = strings.ReplaceAll(line, "-ca ./srv/ca.pem", "-ca ./srv/ca.pem -state ./st")
		if strings.HasPrefix(line, "ferry serve") {
			script = append(script, line+" >serve.out 2>serve.log &", `trap 'kill $(jobs -p) 2>/dev/null' EXIT`,
				`for i in $(seq 100); do grep -q "serving on" serve.log && break; sleep 0.05; done`)
			continue
		}
		script = append(script, "mv report.pdf report.orig 2>/dev/null; cp report.orig report.pdf", line, "set -e")
	}
	script = append(script, "cmp report.pdf report.orig")
	both := readmeBlock(t, "### Moving files both ways")
	for _, line := range strings.Split(both, "\n") {
		line, _, _ = strings.Cut(line, "  #")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		for _, c := range []string{"send", "get", "ls", "mv", "rm", "mkdir"} {
			line = strings.ReplaceAll(line, "ferry "+c+" ", "ferry "+c+" "+conn+" ")
		}
		line = strings.ReplaceAll(line, "| less", "| cat >logs-back")
		script = append(script, line)
	}
	script = append(script, "diff -r etc restore/etc", "cmp x.log logs-back")
	writeRandom(t, filepath.Join(dir, "report.pdf"), 48213)
	os.MkdirAll(filepath.Join(dir, "etc", "config"), 0o755)
	writeRandom(t, filepath.Join(dir, "etc", "config", "network"), 700)
	writeRandom(t, filepath.Join(dir, "x.log"), 5000)
	os.MkdirAll(filepath.Join(dir, "site"), 0o755)
	writeRandom(t, filepath.Join(dir, "site", "index.html"), 100)
	full := "set -e\n" + strings.Join(script, "\n")
	t.Logf("script:\n%s", full)
	cmd := exec.Command("bash", "-c", full)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg")) // the block's first line puts bin/ on the PATH
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// The README's other examples, and what runs them: the config file, "Your
// own CA", the serial line, shell completion and "A server's clients" run
// below. Elsewhere: "Quick start" is make demo and make test themselves
// (.ci/run runs both); the ssh example and the first transfer above; the
// shell transcript by TestShellTerminal (the same put -r, Tab, ls -l,
// get -r, mv, df and a missing file, on a pseudo-terminal); "ferry
// install" by make test-install; the systemd and OpenWrt service files by
// make check-services; the classic block by TestClassicCLI.

// readmeScript returns the commands of a README block, one a line, with
// comments and blank lines dropped and each replacement (old, new, ...)
// made.
func readmeScript(t *testing.T, marker string, replace ...string) []string {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(readmeBlock(t, marker), "\n") {
		line, _, _ = strings.Cut(line, "  #")
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, strings.NewReplacer(replace...).Replace(line))
	}
	return lines
}

// runREADME runs lines with bash in dir, ferry on the PATH and the
// client's state in dir/xdg. A "ferry serve" line starts in the
// background and is waited for until it serves; after each other line its
// exit code goes to the output as "exit N"; the servers' logs end the
// output. It returns the output and the exit codes in order.
func runREADME(t *testing.T, dir string, lines []string) (string, []string) {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.Symlink(ferryBin, filepath.Join(bin, "ferry"))
	script := []string{`trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT`}
	for i, line := range lines {
		if strings.HasPrefix(line, "ferry serve ") {
			log := fmt.Sprintf("serve%d.log", i)
			script = append(script, line+" >"+log+" 2>&1 &",
				`for i in $(seq 200); do grep -q "serving on" `+log+` && break; sleep 0.05; done`)
			continue
		}
		script = append(script, line, `echo "exit $?"`)
	}
	script = append(script, "cat serve*.log 2>/dev/null || true")
	t.Logf("script:\n%s", strings.Join(script, "\n"))
	cmd := exec.Command("bash", "-c", strings.Join(script, "\n"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
	b, err := cmd.CombinedOutput()
	out := string(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out, regexp.MustCompile(`(?m)^exit \d+$`).FindAllString(out, -1)
}

// TestREADMEConfig: the config file in the README parses, with the two
// devices as the text around it says.
func TestREADMEConfig(t *testing.T) {
	c, err := parseConfig("README.md", readmeBlock(t, "### Named devices: the config file"))
	if err != nil {
		t.Fatal(err)
	}
	router, pi := c.devices["router"], c.devices["pi"]
	if len(c.devices) != 2 || router == nil || pi == nil {
		t.Fatalf("devices: %v", c.devices)
	}
	if s := router.settings; s["serial"] != "/dev/ttyUSB0" || s["baud"] != "115200" || s["pin"] != "true" {
		t.Errorf("router: %v", s)
	}
	if s := pi.settings; s["server"] != "pi.local" || !strings.HasSuffix(s["ca"], "/pki/ca.pem") || strings.HasPrefix(s["ca"], "~") {
		t.Errorf("pi: %v", s)
	}
}

// TestREADMEOwnCA runs "Your own CA" with 127.0.0.1 for
// files.example.org and a free port for 7417.
func TestREADMEOwnCA(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	lines := readmeScript(t, "### Your own CA", "files.example.org:7417", addr, "files.example.org", "127.0.0.1",
		"ferry serve ", "ferry serve -listen "+addr+" ", " FILE", " report.pdf")
	want := writeRandom(t, filepath.Join(dir, "report.pdf"), 7000)
	out, exits := runREADME(t, dir, lines)
	if strings.Join(exits, ",") != "exit 0,exit 0,exit 0" {
		t.Fatalf("exit codes %v, want three 0:\n%s", exits, out)
	}
	if got := storedCopy(t, filepath.Join(dir, "srv"), "report.pdf"); !bytes.Equal(got, want) {
		t.Fatalf("report.pdf not stored:\n%s", out)
	}
}

// TestREADMESerial runs "Over a serial line" on the simulated line of
// the serial tests: /dev/ttyS0 is the server's pseudo-terminal,
// /dev/ttyUSB0 the client's. The first send shows the fingerprint the
// server printed and exits 3; pinned, the file is stored.
func TestREADMESerial(t *testing.T) {
	dir := t.TempDir()
	_, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	lines := readmeScript(t, "### Over a serial line", "/dev/ttyS0", srvDev, "/dev/ttyUSB0", cliDev,
		"/srv/ferry", filepath.Join(dir, "srv"), " FILE", " report.pdf")
	want := writeRandom(t, filepath.Join(dir, "report.pdf"), 2000)
	out, exits := runREADME(t, dir, lines)
	if strings.Join(exits, ",") != "exit 0,exit 3,exit 0" {
		t.Fatalf("exit codes %v, want ports 0, the first send 3, the pinned one 0:\n%s", exits, out)
	}
	served := fingerprintRE.FindString(out[max(0, strings.Index(out, "server key fingerprint")):])
	offered, _, _ := strings.Cut(out[max(0, strings.Index(out, "server key not known")):], "\n")
	if served == "" || !strings.Contains(offered, served) {
		t.Fatalf("the first send does not show the fingerprint the server printed (%q):\n%s", served, out)
	}
	if got := storedCopy(t, filepath.Join(dir, "srv"), "report.pdf"); !bytes.Equal(got, want) {
		t.Fatalf("report.pdf not stored:\n%s", out)
	}
}

// TestREADMECompletion: the bash line defines the completion in bash; the
// zsh line writes a valid script into the first folder of $fpath.
func TestREADMECompletion(t *testing.T) {
	lines := readmeScript(t, "### Shell completion")
	if len(lines) != 2 || !strings.Contains(lines[0], "completion bash") || !strings.Contains(lines[1], "completion zsh") {
		t.Fatalf("the block is not the bash line and the zsh line: %q", lines)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.Symlink(ferryBin, filepath.Join(bin, "ferry"))
	env := append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	cmd := exec.Command("bash", "-c", "set -e; "+lines[0]+"; complete -p ferry")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "-F _ferry ferry") {
		t.Errorf("bash: %v %q", err, out)
	}
	if _, err := exec.LookPath("zsh"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no zsh under CI")
		}
		t.Skip("no zsh")
	}
	fpath := filepath.Join(dir, "zfunc")
	os.Mkdir(fpath, 0o755)
	cmd = exec.Command("zsh", "-f", "-c", "set -e; fpath=("+fpath+" $fpath); "+lines[1]+`; zsh -n "${fpath[1]}/_ferry"`)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zsh: %v %s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(fpath, "_ferry")); !strings.Contains(string(b), "_ferry") {
		t.Fatalf("zsh: %s/_ferry: %q", fpath, b)
	}
}

// TestREADMEClients runs "A server's clients" on a data folder where a
// client "router" stored a file (through a stdio server, which leaves it
// unlocked when it ends): listed, disabled, then removed with its files.
func TestREADMEClients(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	f := filepath.Join(dir, "cfg.tar")
	writeRandom(t, f, 1000)
	srv := &stdioServer{data: data, state: filepath.Join(dir, "st")}
	if _, errs, code := srv.run(t, nil, "send", "-name", "router", f); code != 0 {
		t.Fatalf("send: exit %d %s", code, errs)
	}
	out, exits := runREADME(t, dir, readmeScript(t, "### A server's clients", "/srv/ferry", data))
	if strings.Join(exits, ",") != "exit 0,exit 0,exit 0" {
		t.Fatalf("exit codes %v, want three 0:\n%s", exits, out)
	}
	if !regexp.MustCompile(`(?m)^router +[0-9a-f]{32} +SHA256:`).MatchString(out) {
		t.Errorf("the listing does not show router:\n%s", out)
	}
	if list, errs, code := ferry(t, "clients", "-data", data); code != 0 || strings.Contains(list, "router") {
		t.Errorf("after -remove: exit %d %q %s", code, list, errs)
	}
	if storedCopy(t, data, "cfg.tar") != nil {
		t.Error("the removed client's file is still there")
	}
}
