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
