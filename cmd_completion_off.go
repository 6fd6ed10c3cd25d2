//go:build ferry_nocompletion

package main

import (
	"fmt"
	"io"

	"ferry/boards"
)

// The router profiles (boards/ath79.env, boards/ramips-mt7621.env) build
// with the ferry_nocompletion tag: a completion script is for the shell of
// the machine one types on, a laptop, and its generator costs about 13 KB
// (docs/BOARDS.md, "Size").
func runCompletion([]string, io.Writer) error {
	return fmt.Errorf("this build (board profile %s) leaves out shell completion scripts; make them with a laptop build (ferry completion bash|zsh)", boards.Current.Name)
}
