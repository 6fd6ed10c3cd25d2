// Command linesim runs two programs joined by a simulated serial line:
// A's standard output goes to B's standard input and B's to A's, paced at
// a baud rate and corrupted as asked, both directions independently.
//
//	linesim [flags] -- CMD_A ARGS... -- CMD_B ARGS...
//	linesim [flags] -pty
//
// It exits with A's status if A failed, else with B's (see -exit). When A exits, B's
// input ends once the line has carried what A wrote; B gets -grace to
// exit on its own before it is killed. With -pty it creates two
// pseudo-terminals joined by the line, prints their paths and runs until
// interrupted. Statistics go to standard error with -v.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"ferry/link/linktest"
)

func main() {
	os.Exit(run())
}

func run() int {
	var cfg linktest.Config
	flag.IntVar(&cfg.Baud, "baud", 115200, "line rate in baud (10 bits a byte); 0 = unpaced")
	flag.Float64Var(&cfg.BER, "ber", 0, "bit error rate")
	flag.Float64Var(&cfg.Drop, "drop", 0, "probability that a byte is lost")
	flag.DurationVar(&cfg.BurstEvery, "burst", 0, "mean time between noise bursts")
	flag.DurationVar(&cfg.BurstLen, "burst-len", 20*time.Millisecond, "length of a noise burst")
	flag.IntVar(&cfg.FIFO, "fifo", 0, "transmit FIFO in bytes (0 = 1024 or 10ms of line)")
	flag.Uint64Var(&cfg.Seed, "seed", 0, "random seed (0 = random)")
	pauseAt := flag.Duration("pause-at", 0, "pull the cable this long after the start")
	pause := flag.Duration("pause", 0, "for this long")
	pty := flag.Bool("pty", false, "expose the line as two pseudo-terminals instead of running commands")
	grace := flag.Duration("grace", 10*time.Second, "time B gets to exit after A")
	verbose := flag.Bool("v", false, "print timing and line statistics")
	status := flag.String("exit", "both", "exit `status`: a (A's), b (B's) or both (A's if it failed, else B's)")
	flag.Usage = usage
	flag.Parse()

	line := linktest.NewLine(cfg)
	if *pause > 0 {
		time.AfterFunc(*pauseAt, func() { line.Pause(*pause) })
	}
	if *pty {
		return runPTY(line)
	}
	a, b, ok := splitCommands(flag.Args())
	if !ok {
		usage()
		return 2
	}
	start := time.Now()
	codeA, codeB := runPair(line, a, b, *grace)
	code := codeA
	switch {
	case *status == "b" || *status == "both" && codeA == 0:
		code = codeB
	}
	if *verbose {
		fmt.Fprintf(os.Stderr, "linesim: %.3fs; A->B %+v; B->A %+v\n",
			time.Since(start).Seconds(), line.Stats(0), line.Stats(1))
	}
	return code
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: linesim [flags] -- CMD_A ARGS... -- CMD_B ARGS...\n       linesim [flags] -pty\n")
	flag.PrintDefaults()
}

// splitCommands splits "A ARGS... -- B ARGS..." (a leading "--" already
// consumed by flag parsing).
func splitCommands(args []string) (a, b []string, ok bool) {
	for i, s := range args {
		if s == "--" {
			a, b = args[:i], args[i+1:]
			return a, b, len(a) > 0 && len(b) > 0
		}
	}
	return nil, nil, false
}

// runPair runs A on end 0 and B on end 1 and returns their exit statuses.
func runPair(line *linktest.Line, a, b []string, grace time.Duration) (int, int) {
	ca, err := start(a, line.End(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "linesim:", err)
		return 127, 127
	}
	cb, err := start(b, line.End(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "linesim:", err)
		ca.Process.Kill()
		return 127, 127
	}
	bDone := make(chan error, 1)
	go func() { bDone <- cb.Wait() }()
	errA := ca.Wait()
	var errB error
	select {
	case errB = <-bDone:
	case <-time.After(grace):
		cb.Process.Kill()
		<-bDone
		fmt.Fprintf(os.Stderr, "linesim: killed %s %v after A exited\n", b[0], grace)
		errB = nil
	}
	line.Close()
	return exitCode(errA, "A"), exitCode(errB, "B")
}

// start runs a command with its standard input and output on end e. When
// the command closes its output, the line carries what is queued and then
// the other end reads EOF.
func start(argv []string, e *linktest.End) (*exec.Cmd, error) {
	c := exec.Command(argv[0], argv[1:]...)
	c.Stderr = os.Stderr
	// Plain pipes, not StdinPipe/StdoutPipe: Wait closes those as soon as
	// the command exits, before the line has carried its output.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.Stdin, c.Stdout = inR, outW
	err = c.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	go func() {
		io.Copy(e, outR)
		outR.Close()
		e.CloseWrite()
	}()
	go func() {
		io.Copy(inW, e)
		inW.Close()
	}()
	return c, nil
}

func exitCode(err error, who string) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.ExitCode() >= 0 {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "linesim: %s: %v\n", who, err)
		return 128
	}
	fmt.Fprintf(os.Stderr, "linesim: %s: %v\n", who, err)
	return 1
}

// runPTY joins two pseudo-terminals through the line until interrupted.
func runPTY(line *linktest.Line) int {
	var paths []string
	for side := 0; side < 2; side++ {
		p, err := linktest.OpenPTY()
		if err != nil {
			fmt.Fprintln(os.Stderr, "linesim:", err)
			return 1
		}
		defer p.Close()
		p.Attach(line.End(side))
		paths = append(paths, p.SlavePath)
	}
	fmt.Println(strings.Join(paths, " "))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return 0
}
