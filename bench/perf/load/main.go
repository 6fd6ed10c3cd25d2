// Command load runs many ferry clients at once against one server, for
// bench/perf/run.sh: each client registers under its own name and state
// directory, uploads one file and says goodbye. It prints one line of
// key=value figures: clients, bytes, seconds, MB/s, errors, handshake time.
// With -n 1 -suite chacha it measures a ChaCha20-Poly1305 upload, which
// ferry send cannot be made to choose on this machine.
// It is a benchmark tool, not part of ferry.
package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"ferry/client"
	"ferry/crypt"
	"ferry/link"
)

func main() {
	server := flag.String("server", "127.0.0.1:7417", "server `host:port`")
	ca := flag.String("ca", "", "CA `file` of the server")
	file := flag.String("file", "", "`file` each client uploads")
	state := flag.String("state", "", "`directory` for the clients' state directories")
	n := flag.Int("n", 256, "number of concurrent clients")
	chunk := flag.Int("chunk", 1<<20, "chunk size to ask for")
	suite := flag.String("suite", "", "offer only this suite: aes or chacha (default: ferry's preference)")
	flag.Parse()
	var suites []crypt.Suite
	switch *suite {
	case "aes":
		suites = []crypt.Suite{crypt.SuiteAES256GCM}
	case "chacha":
		suites = []crypt.Suite{crypt.SuiteChaCha20Poly1305}
	case "":
	default:
		fmt.Fprintln(os.Stderr, "load: -suite is aes or chacha")
		os.Exit(2)
	}
	if err := run(*server, *ca, *file, *state, *n, *chunk, suites); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(server, ca, file, state string, n, chunk int, suites []crypt.Suite) error {
	roots, err := crypt.LoadCertPool(ca)
	if err != nil {
		return err
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	var errs atomic.Int64
	hs := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			d, err := one(server, roots, file, filepath.Join(state, fmt.Sprint(i)), i, chunk, suites)
			if err != nil {
				errs.Add(1)
				fmt.Fprintf(os.Stderr, "load: client %d: %v\n", i, err)
			}
			hs[i] = d
		})
	}
	wg.Wait()
	el := time.Since(start)
	slices.Sort(hs)
	total := int64(n) * st.Size()
	fmt.Printf("clients=%d bytes=%d seconds=%.3f mbps=%.1f errors=%d handshake_median_ms=%.2f\n",
		n, total, el.Seconds(), float64(total)/el.Seconds()/1e6, errs.Load(), float64(hs[n/2].Microseconds())/1000)
	return nil
}

// one runs one client: connect (handshake and registration), upload, bye.
// It returns the time the connection and handshake took.
func one(server string, roots *x509.CertPool, file, state string, i, chunk int, suites []crypt.Suite) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	host, _, err := net.SplitHostPort(server)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	conn, err := link.Dial(ctx, server)
	if err != nil {
		return 0, err
	}
	c, err := client.Connect(conn, client.Config{
		State: client.State{Dir: state}, Server: server, Name: fmt.Sprintf("load-%d", i),
		Verify: crypt.CAVerifier(roots, host), Chunk: chunk, Suites: suites, Timeout: 2 * time.Minute,
	})
	if err != nil {
		return 0, err
	}
	d := time.Since(t0)
	if _, err := c.Upload(file, "load.bin"); err != nil {
		c.Close()
		return d, err
	}
	return d, c.Close()
}
