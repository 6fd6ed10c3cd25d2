//go:build !ferry_nocompletion

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// "ferry completion bash|zsh" prints a completion script made from the
// commands and flags of this binary, so that it never lists a flag the
// binary lacks. The flags are found by running each command with -h, which
// every command parses first (its help goes nowhere); -server also
// completes the device names of the config file, read by the script itself
// when it completes.

// allCommands is the commands list, set by init: the list holds
// runCompletion, which reads the list, and Go refuses that cycle in a
// variable's initialisation.
var allCommands []command

func init() { allCommands = commands }

func runCompletion(args []string, stderr io.Writer) error {
	fs := newFlags("completion", "bash|zsh", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "bash" && fs.Arg(0) != "zsh" {
		fmt.Fprintln(stderr, "ferry completion: give the shell: bash or zsh\n\tbash: source <(ferry completion bash), or ferry completion bash >/etc/bash_completion.d/ferry\n\tzsh:  ferry completion zsh >\"${fpath[1]}/_ferry\"")
		return errUsage
	}
	cmds := completionCommands()
	if fs.Arg(0) == "bash" {
		fmt.Print(bashCompletion(cmds))
	} else {
		fmt.Print(zshCompletion(cmds))
	}
	return nil
}

// compCommand is a command with its flags, for completion.
type compCommand struct {
	name, summary string
	flags         []compFlag
}

type compFlag struct {
	name, usage string
	arg         string // what the value is ("file", "rate")
	value       bool   // takes a value
}

// completionCommands lists the commands with their flags, and "help" with
// the commands and topics as its arguments.
func completionCommands() []compCommand {
	sets := commandFlagSets()
	var out []compCommand
	for _, c := range allCommands {
		cc := compCommand{name: c.name, summary: c.summary}
		if fs := sets[c.name]; fs != nil {
			fs.VisitAll(func(f *flag.Flag) {
				b, ok := f.Value.(interface{ IsBoolFlag() bool })
				arg, usage := flag.UnquoteUsage(f)
				usage, _, _ = strings.Cut(usage, "; ")
				usage, _, _ = strings.Cut(usage, " (")
				cc.flags = append(cc.flags, compFlag{name: f.Name, arg: arg, usage: usage, value: !ok || !b.IsBoolFlag()})
			})
		}
		out = append(out, cc)
	}
	return append(out, compCommand{name: "help", summary: "help on a command or a topic"})
}

// commandFlagSets runs each command with -h, stdout set aside, and
// returns the flag sets they made (newFlags keeps them), by command name.
func commandFlagSets() map[string]*flag.FlagSet {
	stdout := os.Stdout
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		os.Stdout = null
		defer func() { os.Stdout = stdout; null.Close() }()
	}
	for _, c := range allCommands {
		if c.name != "completion" && c.name != "version" {
			c.run([]string{"-h"}, io.Discard)
		}
	}
	sets := map[string]*flag.FlagSet{}
	usages.Range(func(k, _ any) bool {
		fs := k.(*flag.FlagSet)
		sets[fs.Name()] = fs
		return true
	})
	return sets
}

// helpWords are what "ferry help" completes: commands and topics.
func helpWords(cmds []compCommand) []string {
	var words []string
	for _, c := range cmds {
		if c.name != "help" {
			words = append(words, c.name)
		}
	}
	for _, t := range helpTopics {
		words = append(words, t.name)
	}
	return words
}

// devicesAwk prints the device names of the config file.
const devicesAwk = `awk '$1 == "device" { print $2 }' "${XDG_CONFIG_HOME:-$HOME/.config}/ferry/config" 2>/dev/null`

func bashCompletion(cmds []compCommand) string {
	var b strings.Builder
	b.WriteString(`# bash completion for ferry, made by "ferry completion bash".
# Use: source <(ferry completion bash), or save it as
# /etc/bash_completion.d/ferry.

_ferry_devices() {
	` + devicesAwk + `
}

_ferry() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmd=${COMP_WORDS[1]} flags="" valued=""
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "`)
	for _, c := range cmds {
		b.WriteString(c.name + " ")
	}
	b.WriteString(`-version" -- "$cur"))
		return
	fi
	case $cmd in
`)
	for _, c := range cmds {
		var all, valued []string
		for _, f := range c.flags {
			all = append(all, "-"+f.name)
			if f.value {
				valued = append(valued, "-"+f.name)
			}
		}
		switch {
		case c.name == "help":
			fmt.Fprintf(&b, "\thelp)\n\t\t[ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn ;;\n", strings.Join(helpWords(cmds), " "))
		case c.name == "completion":
			b.WriteString("\tcompletion)\n\t\tCOMPREPLY=($(compgen -W \"bash zsh\" -- \"$cur\"))\n\t\treturn ;;\n")
		default:
			fmt.Fprintf(&b, "\t%s) flags=%q valued=%q ;;\n", c.name, strings.Join(all, " "), strings.Join(valued, " "))
		}
	}
	b.WriteString(`	esac
	case " $valued " in
	*" ${prev%%=*} "*)
		if [ "$prev" = -server ]; then
			COMPREPLY=($(compgen -W "$(_ferry_devices)" -A hostname -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}

complete -o filenames -F _ferry ferry
`)
	return b.String()
}

func zshCompletion(cmds []compCommand) string {
	var b strings.Builder
	b.WriteString(`#compdef ferry
# zsh completion for ferry, made by "ferry completion zsh".
# Use: ferry completion zsh >"${fpath[1]}/_ferry", then start a new shell.

_ferry_devices() {
	local -a devices
	devices=(${(f)"$(` + devicesAwk + `)"})
	_alternative 'devices:device:compadd -a devices' 'hosts:host:_hosts'
}

_ferry() {
	local -a commands
	commands=(
`)
	for _, c := range cmds {
		fmt.Fprintf(&b, "\t\t%s\n", zshQuote(c.name+":"+zshText(c.summary)))
	}
	b.WriteString(`	)
	if (( CURRENT == 2 )); then
		_describe -t commands 'ferry command' commands
		return
	fi
	local cmd=$words[2]
	shift words
	(( CURRENT-- ))
	case $cmd in
`)
	for _, c := range cmds {
		switch c.name {
		case "help":
			fmt.Fprintf(&b, "\thelp)\n\t\t_arguments '1:topic:(%s)' ;;\n", strings.Join(helpWords(cmds), " "))
			continue
		case "completion":
			b.WriteString("\tcompletion)\n\t\t_arguments '1:shell:(bash zsh)' ;;\n")
			continue
		}
		fmt.Fprintf(&b, "\t%s)\n\t\t_arguments \\\n", c.name)
		flags := append([]compFlag(nil), c.flags...)
		sort.Slice(flags, func(i, j int) bool { return flags[i].name < flags[j].name })
		for _, f := range flags {
			spec := "-" + f.name + "[" + zshText(f.usage) + "]"
			switch {
			case f.name == "server":
				spec += ":server:_ferry_devices"
			case f.value:
				spec += ":" + zshText(f.arg) + ":_files"
			}
			fmt.Fprintf(&b, "\t\t\t%s \\\n", zshQuote(spec))
		}
		b.WriteString("\t\t\t'*:file:_files' ;;\n")
	}
	b.WriteString(`	esac
}

_ferry "$@"
`)
	return b.String()
}

// zshText makes a description safe inside an _arguments spec and
// _describe: no brackets, colons or backslashes.
func zshText(s string) string {
	return strings.NewReplacer("[", "(", "]", ")", ":", " ", "\\", "/", "`", "'").Replace(s)
}

// zshQuote quotes s for zsh in single quotes.
func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
