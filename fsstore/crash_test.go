package fsstore_test

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"ferry/fsstore"
	"ferry/fsstore/internal/crashtest"
)

var (
	crashKills = flag.Int("crash.kills", 20, "how many times TestCrash kills the writer")
	crashSeed  = flag.Uint64("crash.seed", 0, "seed of TestCrash's kill delays (0: from the clock)")
)

// Environment of the re-executed test binary acting as the crash writer.
const (
	envWriterDir  = "FSSTORE_CRASHWRITER_DIR"
	envWriterSeed = "FSSTORE_CRASHWRITER_SEED"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envWriterDir); dir != "" {
		seed, _ := strconv.ParseUint(os.Getenv(envWriterSeed), 10, 64)
		err := crashtest.Writer(dir, seed, os.Stdout)
		fmt.Fprintln(os.Stderr, "crash writer:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestCrash runs the crash writer (this test binary, re-executed) on one data
// directory again and again, kills it with SIGKILL at a random moment, and
// checks after each kill that the store opens and that every acknowledged
// registration and upload is there, verified and byte-identical, and that no
// listed-as-verified file has other bytes. Run 200 kills with
//
//	go test ./fsstore -run TestCrash -crash.kills 200 -v
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: run with -crash.kills N")
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	ledger := crashtest.NewLedger()
	var lost, failedOpens int
	for i := range *crashKills {
		out := runAndKill(t, dir, i+1, time.Duration(rng.IntN(250))*time.Millisecond)
		if err := ledger.Feed(bytes.NewReader(out)); err != nil {
			t.Fatal(err)
		}
		bad, err := ledger.Verify(dir, i%10 == 9 || i == *crashKills-1)
		if err != nil {
			failedOpens++
			t.Errorf("kill %d: open failed: %v", i+1, err)
		}
		for _, b := range bad {
			t.Errorf("kill %d: %s", i+1, b)
		}
		lost += len(bad)
	}
	checkAfterCrashes(t, dir)
	t.Logf("seed %d: %d kills, %d acknowledgements, %d lost, %d failed opens", seed, *crashKills, ledger.Acks, lost, failedOpens)
}

// runAndKill starts the writer and SIGKILLs it after delay; it returns what
// the writer printed.
func runAndKill(t *testing.T, dir string, run int, delay time.Duration) []byte {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWriterDir+"="+dir, envWriterSeed+"="+strconv.Itoa(run))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	cmd.Process.Kill()
	cmd.Wait()
	if stderr.Len() > 0 {
		t.Fatalf("run %d: writer failed: %s", run, stderr.Bytes())
	}
	return out.Bytes()
}

// checkAfterCrashes runs the fsck check: after all the kills (and the
// Open of the last Verify), the tables and the disk must agree completely:
// every commit, rename and removal writes its intent first and Open
// resolves it, and Open empties the folder of uploads in progress, so no
// kill leaves an orphan file or a leftover.
func checkAfterCrashes(t *testing.T, dir string) {
	rep, err := fsstore.Check(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		t.Errorf("fsck after crashes: %v", p)
	}
	t.Logf("fsck: %d clients, %d files, %d problems", rep.Clients, rep.Files, len(rep.Problems))
}
