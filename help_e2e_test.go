package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelpOnStdout: "ferry help", "ferry help TOPIC" and "ferry help
// COMMAND" print on stdout and exit 0; an unknown topic is a usage error
// on stderr.
func TestHelpOnStdout(t *testing.T) {
	out, errs, code := ferry(t, "help")
	if code != 0 || errs != "" || !strings.Contains(out, "clients ") || !strings.Contains(out, "completion ") {
		t.Fatalf("help: exit %d %q\n%s", code, errs, out)
	}
	for _, topic := range []string{"trust", "serial", "config", "exit-codes"} {
		if !strings.Contains(out, "\t"+topic+" ") {
			t.Errorf("help does not list the topic %s", topic)
		}
		page, errs, code := ferry(t, "help", topic)
		if code != 0 || errs != "" || len(strings.Split(page, "\n")) < 10 {
			t.Errorf("help %s: exit %d %q\n%s", topic, code, errs, page)
		}
	}
	for _, args := range [][]string{{"help", "clients"}, {"clients", "-h"}, {"help", "completion"}, {"send", "-h"}} {
		out, errs, code := ferry(t, args...)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "usage: ferry ") {
			t.Errorf("%v: exit %d %q\n%s", args, code, errs, out)
		}
	}
	if out, errs, code := ferry(t, "help", "nonsense"); code != exitUsage || out != "" || !strings.Contains(errs, "unknown command") {
		t.Errorf("help nonsense: exit %d %q %q", code, out, errs)
	}
	page, _, _ := ferry(t, "help", "exit-codes")
	for _, c := range []int{exitOK, exitFailure, exitUsage, exitTrust, exitChecksum, exitFsck} {
		if !strings.Contains(page, "\t"+string(rune('0'+c))+"  ") {
			t.Errorf("exit-codes does not explain %d", c)
		}
	}
}

// TestConfigHelpExample: the example in "ferry help config" is a config
// file that parses, and the page lists every keyword.
func TestConfigHelpExample(t *testing.T) {
	page := configHelp()
	start := strings.Index(page, "\t# my devices\n")
	end := strings.Index(page[start:], "\n\n")
	example := strings.ReplaceAll(page[start:start+end], "\n\t", "\n")
	c, err := parseConfig("help", example)
	if err != nil || c.devices["router"] == nil || c.devices["pi"] == nil || c.devices["pi"].settings["server"] != "pi.local" {
		t.Fatalf("the example does not parse as shown: %v\n%s", err, example)
	}
	for i, kw := range keywords {
		if !strings.Contains(page, "\t"+kw.name+" ") {
			t.Errorf("keyword %s not listed", kw.name)
		}
		if i > 0 && keywords[i-1].name >= kw.name {
			t.Errorf("keywords not sorted: %s before %s", keywords[i-1].name, kw.name)
		}
	}
}

// TestCompletion: the bash script completes the binary's commands, each
// command's flags, help topics and the config file's devices after
// -server; the zsh script is valid zsh and dispatches the same way
// (skipped without zsh, except under CI, where it fails).
func TestCompletion(t *testing.T) {
	if _, _, code := ferry(t, "completion"); code != exitUsage {
		t.Errorf("completion without a shell: exit %d", code)
	}
	if _, _, code := ferry(t, "completion", "fish"); code != exitUsage {
		t.Errorf("completion fish: exit %d", code)
	}
	dir := t.TempDir()
	xdg := filepath.Join(dir, "xdg")
	os.MkdirAll(filepath.Join(xdg, "ferry"), 0o700)
	os.WriteFile(filepath.Join(xdg, "ferry", "config"), []byte("device router\n\tserial /dev/ttyUSB0\ndevice pi-lab\n"), 0o600)
	script, errs, code := ferry(t, "completion", "bash")
	if code != 0 || errs != "" {
		t.Fatalf("completion bash: exit %d %s", code, errs)
	}
	bashScript := filepath.Join(dir, "ferry.bash")
	os.WriteFile(bashScript, []byte(script), 0o600)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	probe := `source "$1"
c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _ferry; echo "${COMPREPLY[*]}"; }
c ferry ""
c ferry send -
c ferry send -server ""
c ferry help ""
c ferry clients -d
`
	cmd := exec.Command("bash", "-c", probe, "probe", bashScript)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+xdg)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, got)
	}
	lines := strings.Split(string(got), "\n")
	sendHelp, _, _ := ferry(t, "send", "-h")
	sendFlags := regexp.MustCompile(`(?m)^  (-[a-z-]+)`).FindAllStringSubmatch(sendHelp, -1)
	for _, c := range commands {
		if !strings.Contains(" "+lines[0]+" ", " "+c.name+" ") {
			t.Errorf("command %s not completed: %q", c.name, lines[0])
		}
	}
	for _, f := range sendFlags {
		if !strings.Contains(" "+lines[1]+" ", " "+f[1]+" ") {
			t.Errorf("send flag %s not completed", f[1])
		}
	}
	if len(sendFlags) < 20 || !strings.Contains(lines[1], "-alias") || !strings.Contains(lines[1], "-config") {
		t.Errorf("send flags: %q", lines[1])
	}
	if !strings.Contains(lines[2], "router") || !strings.Contains(lines[2], "pi-lab") {
		t.Errorf("-server does not complete the devices: %q", lines[2])
	}
	if !strings.Contains(lines[3], "trust") || !strings.Contains(lines[3], "exit-codes") || !strings.Contains(lines[3], "send") {
		t.Errorf("help topics: %q", lines[3])
	}
	if strings.TrimSpace(lines[4]) != "-data -disable" {
		t.Errorf("clients -d: %q", lines[4])
	}

	if _, err := exec.LookPath("zsh"); err != nil {
		if os.Getenv("CI") != "" { // .ci/run installs zsh and sets CI
			t.Fatal("no zsh under CI: the zsh completion would go unchecked")
		}
		t.Log("no zsh: its script is not checked")
		return
	}
	script, _, code = ferry(t, "completion", "zsh")
	zshScript := filepath.Join(dir, "_ferry")
	os.WriteFile(zshScript, []byte(script), 0o600)
	if out, err := exec.Command("zsh", "-n", zshScript).CombinedOutput(); code != 0 || err != nil {
		t.Fatalf("zsh -n: exit %d %v\n%s", code, err, out)
	}
	// The completion system's functions as stubs that print their
	// arguments: what _ferry asks zsh to offer.
	zprobe := `_describe() { print -l -- "describe" "${(P)${@[-1]}[@]}" }
_arguments() { print -l -- "$@" }
source "$1"
words=(ferry "") CURRENT=2 _ferry
words=(ferry send -) CURRENT=3 _ferry
words=(ferry help "") CURRENT=3 _ferry
`
	out, err := exec.Command("zsh", "-c", zprobe, "probe", zshScript).CombinedOutput()
	if err != nil {
		t.Fatalf("zsh: %v\n%s", err, out)
	}
	for _, want := range []string{"describe", "send:upload files", "clients:list a server's clients", "-trust-new[", "-server[", ":server:_ferry_devices", "1:topic:(", "exit-codes"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("zsh completion lacks %q:\n%s", want, out)
		}
	}
}
