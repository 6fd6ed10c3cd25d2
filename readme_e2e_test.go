//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	rest = rest[strings.Index(rest, "```sh\n")+6:]
	return rest[:strings.Index(rest, "```")]
}

// TestREADMEFirstSteps runs the README's first transfer and its "both
// ways" examples as written, in a fresh folder, with the connection flags
// of the first block added to the commands of the second (which leaves
// them out) and a free port for 7417.
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
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
