//go:build ferry_nohelppages

package main

// The router profiles (boards/ath79.env, boards/ramips-mt7621.env) build
// with the ferry_nohelppages tag: the pages of "ferry help TOPIC" are for
// the laptop one types client commands on, and cost about 7 KB
// (docs/BOARDS.md, "Size"). Every command's -h stays.

const leftOutPage = "This build (a router's board profile) leaves out the help pages; read them with\n\"ferry help TOPIC\" on a laptop or Pi build, or in README.md. Every command's\n-h is here.\n"

const (
	trustHelp     = leftOutPage
	serialHelp    = leftOutPage
	exitCodesHelp = leftOutPage
)

func configHelp() string { return leftOutPage }
