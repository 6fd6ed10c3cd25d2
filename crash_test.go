package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ferry/client"
	"ferry/crypt"
	"ferry/frame"
	"ferry/fsstore"
	"ferry/link"
)

var serverKills = flag.Int("server-kills", 8, "how many times TestServerCrash SIGKILLs the server")

// TestServerCrash runs the real server under concurrent uploads, kills it
// with SIGKILL at random moments, restarts it on the same data directory,
// and checks that every registration and upload a client saw acknowledged
// is there, verified and byte-identical, and that no listed file differs
// from its record. make test-crash runs it with 200 kills.
func TestServerCrash(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	src := makeSources(t, dir)
	acked := &ackLog{files: map[ackKey][32]byte{}}
	const clients = 4
	for kill := range *serverKills {
		addr, proc := startDoomed(t, data)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				uploadUntilDead(ctx, t, addr, filepath.Join(dir, fmt.Sprintf("client%d", c)), fmt.Sprintf("c%d", c), kill, src, acked)
			}()
		}
		time.Sleep(time.Duration(20+mrand.IntN(300)) * time.Millisecond)
		proc.Process.Signal(syscall.SIGKILL)
		proc.Wait()
		cancel()
		wg.Wait()
	}
	verifyAcked(t, data, acked)
}

type ackKey struct {
	id   frame.ClientID
	name string
}

type ackLog struct {
	mu      sync.Mutex
	files   map[ackKey][32]byte
	clients []frame.ClientID
}

// makeSources writes a few files of different sizes to upload.
func makeSources(t *testing.T, dir string) []string {
	var out []string
	for i, n := range []int{0, 1000, 70_000, 300_000, 1 << 20} {
		p := filepath.Join(dir, fmt.Sprintf("src%d", i))
		b := make([]byte, n)
		rand.Read(b)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// startDoomed starts a server that will be killed; it must come up on the
// data directory whatever state the last kill left.
func startDoomed(t *testing.T, data string) (string, *exec.Cmd) {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(ferryBin, "serve", "-listen", addr, "-data", data)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var log strings.Builder
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "serving on") {
			go func() {
				for sc.Scan() {
				}
			}()
			return addr, cmd
		}
	}
	cmd.Wait()
	t.Fatalf("server failed to open its data directory after a crash:\n%s", log.String())
	return "", nil
}

// uploadUntilDead uploads files until the server dies, recording what was
// acknowledged.
func uploadUntilDead(ctx context.Context, t *testing.T, addr, state, name string, round int, src []string, acked *ackLog) {
	roots, err := crypt.LoadCertPool(filepath.Join(filepath.Dir(state), "srv", "ca.pem"))
	if err != nil {
		t.Error(err)
		return
	}
	for i := 0; ctx.Err() == nil; i++ {
		conn, err := link.Dial(ctx, addr)
		if err != nil {
			return
		}
		c, err := client.Connect(conn, client.Config{
			State: client.State{Dir: state}, Server: "crash", Name: name,
			Verify: crypt.CAVerifier(roots, hostOf(addr)), Timeout: 5 * time.Second,
		})
		if err != nil {
			return
		}
		acked.mu.Lock()
		acked.clients = append(acked.clients, c.ID())
		acked.mu.Unlock()
		for j := 0; ctx.Err() == nil; j++ {
			path := src[(i+j)%len(src)]
			fname := fmt.Sprintf("r%d-%d-%d", round, i, j)
			if _, err := c.Upload(path, fname); err != nil {
				break
			}
			content, _ := os.ReadFile(path)
			acked.mu.Lock()
			acked.files[ackKey{c.ID(), fname}] = sha256.Sum256(content)
			acked.mu.Unlock()
		}
		conn.Close()
	}
}

func verifyAcked(t *testing.T, data string, acked *ackLog) {
	st, err := fsstore.Open(data, fsstore.Options{})
	if err != nil {
		t.Fatalf("open after the last kill: %v", err)
	}
	defer st.Close()
	for _, id := range acked.clients {
		if _, ok := st.Client(id); !ok {
			t.Errorf("acknowledged client %s lost", id)
		}
	}
	lost := 0
	for k, sum := range acked.files {
		f, ok := st.File(k.id, k.name)
		if !ok || !f.Verified {
			lost++
			t.Errorf("acknowledged upload %s/%s lost", k.id, k.name)
			continue
		}
		b, err := os.ReadFile(filepath.Join(data, filepath.FromSlash(f.Path)))
		if err != nil || sha256.Sum256(b) != sum {
			lost++
			t.Errorf("acknowledged upload %s/%s differs: %v", k.id, k.name, err)
		}
	}
	st.Close()
	rep, err := fsstore.Check(data, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		switch p.Kind {
		case fsstore.ProblemMissing, fsstore.ProblemMismatch, fsstore.ProblemUnknownClient:
			t.Errorf("listed data damaged: %v", p)
		}
	}
	t.Logf("%d kills, %d clients, %d acknowledged uploads, %d lost; fsck: %d problems (leftovers of unacknowledged uploads only)",
		*serverKills, len(acked.clients), len(acked.files), lost, len(rep.Problems))
	if len(acked.files) == 0 {
		t.Fatal("no upload was ever acknowledged: the harness tested nothing")
	}
}
