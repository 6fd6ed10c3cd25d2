// Command crashwriter runs the fsstore crash workload on a data directory
// until it is killed, printing one line per acknowledged operation (see
// package crashtest). The crash test in package fsstore runs the same
// workload by re-executing its own test binary; this command exists to run
// it by hand:
//
//	go run ./fsstore/internal/crashwriter -data /tmp/d -seed 1 > acks.txt & sleep 1; kill -9 $!
package main

import (
	"flag"
	"fmt"
	"os"

	"ferry/fsstore/internal/crashtest"
)

func main() {
	dir := flag.String("data", "", "data directory")
	seed := flag.Uint64("seed", 1, "workload seed (also makes client names unique per run)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "crashwriter: -data is required")
		os.Exit(2)
	}
	if err := crashtest.Writer(*dir, *seed, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "crashwriter:", err)
		os.Exit(1)
	}
}
