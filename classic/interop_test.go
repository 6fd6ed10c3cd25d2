//go:build interop

// The interop tests run ferry's classic client and server against the
// independent Python implementations in testdata/interop (python3 with the
// cryptography package), and ferry's server against a C++ client built on
// Crypto++ and Boost.Asio like the deployed ones (testdata/interop/cpp; g++,
// libcrypto++-dev, libboost-dev):
//
//	go test -tags interop -run Interop ./classic
package classic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry/frame"
)

// startPythonServer runs testdata/interop/seed_server.py with args and
// returns its address and data directory.
func startPythonServer(t *testing.T, args ...string) (addr, dir string) {
	t.Helper()
	dir = t.TempDir()
	script, err := filepath.Abs("testdata/interop/seed_server.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", append([]string{script, "--dir", dir, "--port", "0"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("python3: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("seed_server.py stderr:\n%s", stderr.String())
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "PORT ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("seed_server.py did not start: %q %v\n%s", line, err, stderr.String())
	}
	return "127.0.0.1:" + port, dir
}

// pythonStored returns the file the Python server stored for id.
func pythonStored(t *testing.T, dir string, id frame.ClientID, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "files", hex.EncodeToString(id[:])+"_"+name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInteropClientWithPythonServer: ferry's client registers, uploads,
// reconnects and uploads again against the Python server, one that keeps
// connections and one that closes them after every request.
func TestInteropClientWithPythonServer(t *testing.T) {
	t.Run("persistent", func(t *testing.T) { clientWithPythonServer(t) })
	t.Run("one-request", func(t *testing.T) { clientWithPythonServer(t, "--one-request") })
}

func clientWithPythonServer(t *testing.T, args ...string) {
	addr, sdir := startPythonServer(t, args...)
	ctx := context.Background()
	cfg := ClientConfig{Addr: addr, Name: "ferry client", Dir: t.TempDir()}
	for i, size := range []int{1000, 70_000, 0} {
		p, data := writeTestFile(t, t.TempDir(), "upload.bin", size, uint64(i))
		res, err := Send(ctx, cfg, p)
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		if !res.Verified || res.Registered != (i == 0) {
			t.Fatalf("upload %d: %+v", i, res)
		}
		if got := pythonStored(t, sdir, res.ClientID, "upload.bin"); !bytes.Equal(got, data) {
			t.Fatalf("upload %d: the Python server stored %d bytes, want %d", i, len(got), len(data))
		}
	}
}

// TestInteropResendsWithPythonServer covers both behaviours after 1030
// (2104 or silence), resends that succeed and a fourth failure.
func TestInteropResendsWithPythonServer(t *testing.T) {
	for i, tt := range []struct {
		corrupt  int
		ack      bool
		attempts int
		err      error
	}{
		{2, false, 3, nil},
		{2, true, 3, nil},
		{3, true, 4, nil},
		{4, false, 4, ErrChecksum},
		{4, true, 4, ErrChecksum},
		{2, false, 3, nil},
		{4, true, 4, ErrChecksum},
	} {
		oneRequest := i >= 5
		t.Run(fmt.Sprintf("corrupt=%d,ack=%v,one-request=%v", tt.corrupt, tt.ack, oneRequest), func(t *testing.T) {
			args := []string{"--corrupt", fmt.Sprint(tt.corrupt)}
			if tt.ack {
				args = append(args, "--ack-1030")
			}
			if oneRequest {
				args = append(args, "--one-request")
			}
			addr, _ := startPythonServer(t, args...)
			p, _ := writeTestFile(t, t.TempDir(), "r.bin", 3000, 1)
			res, err := Send(context.Background(), ClientConfig{Addr: addr, Name: "resender", Dir: t.TempDir(), Timeout: 10 * time.Second, Logf: t.Logf}, p)
			if !errors.Is(err, tt.err) || res.Attempts != tt.attempts || res.Verified != (tt.err == nil) {
				t.Fatalf("%+v, %v; want %d attempts, error %v", res, err, tt.attempts, tt.err)
			}
		})
	}
}

// TestInteropDeniedWithPythonServer: a me.info the server does not know
// gets 2106; a server that then closes the connection does not stop ferry
// from registering anew.
func TestInteropDeniedWithPythonServer(t *testing.T) {
	addr, sdir := startPythonServer(t, "--close-after-denied")
	home := t.TempDir()
	if err := testIdentity(t).Save(home); err != nil {
		t.Fatal(err)
	}
	p, data := writeTestFile(t, t.TempDir(), "d.bin", 100, 2)
	res, err := Send(context.Background(), ClientConfig{Addr: addr, Dir: home}, p)
	if err != nil || !res.Registered || res.Name != "alice" || res.ClientID == vecID {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := pythonStored(t, sdir, res.ClientID, "d.bin"); !bytes.Equal(got, data) {
		t.Fatal("stored file differs")
	}
}

// seedClient is the command line of an independent seed-004 client: the
// Python one, or the C++ one built on Crypto++ and Boost.Asio as the
// deployed clients are. Both take the same arguments and print the same
// line.
type seedClient struct {
	name string
	cmd  []string
}

func pythonClient(t *testing.T) seedClient {
	t.Helper()
	script, err := filepath.Abs("testdata/interop/seed_client.py")
	if err != nil {
		t.Fatal(err)
	}
	return seedClient{"seed_client.py", []string{"python3", script}}
}

// The C++ client is compiled once per test run, into cppBuild.dir.
var cppBuild struct {
	sync.Once
	dir, path string
	err       error
}

// cppClient builds testdata/interop/cpp/seed_client.cpp (g++ with Debian's
// libcrypto++-dev and libboost-dev; .ci/run installs them).
func cppClient(t *testing.T) seedClient {
	t.Helper()
	cppBuild.Do(func() {
		src, err := filepath.Abs("testdata/interop/cpp/seed_client.cpp")
		if err != nil {
			cppBuild.err = err
			return
		}
		if cppBuild.dir, err = os.MkdirTemp("", "ferry-interop-cpp"); err != nil {
			cppBuild.err = err
			return
		}
		cppBuild.path = filepath.Join(cppBuild.dir, "seed_client")
		out, err := exec.Command("g++", "-O2", "-std=c++17", src, "-o", cppBuild.path, "-lcryptopp", "-pthread").CombinedOutput()
		if err != nil {
			cppBuild.err = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if cppBuild.err != nil {
		t.Fatalf("building the C++ client (needs g++, libcrypto++-dev, libboost-dev): %v", cppBuild.err)
	}
	return seedClient{"the C++ client", []string{cppBuild.path}}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cppBuild.dir != "" {
		os.RemoveAll(cppBuild.dir)
	}
	os.Exit(code)
}

// run runs the client in dir and returns its one line of output.
func (c seedClient) run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(c.cmd[0], append(c.cmd[1:], args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s: %v\n%s", c.name, err, ee.Stderr)
		}
		t.Fatalf("%s: %v", c.name, err)
	}
	return strings.TrimSpace(string(out))
}

// pythonClientDir makes a client directory with transfer.info and a file.
func pythonClientDir(t *testing.T, addr, name string, size int) (dir string, data []byte) {
	t.Helper()
	dir = t.TempDir()
	_, data = writeTestFile(t, dir, "payload.dat", size, uint64(size))
	info := fmt.Sprintf("%s\n%s\npayload.dat\n", addr, name)
	if err := os.WriteFile(filepath.Join(dir, TransferInfo), []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, data
}

func parseOK(t *testing.T, line string) frame.ClientID {
	t.Helper()
	var id frame.ClientID
	f := strings.Fields(line)
	raw, err := hex.DecodeString(f[len(f)-2])
	if len(f) != 3 || f[0] != "OK" || err != nil || copy(id[:], raw) != 16 {
		t.Fatalf("the client said %q", line)
	}
	return id
}

// TestInteropPythonClientWithServer: the Python client registers, uploads
// and reconnects against ferry's server, keeping its connection or as the
// C++ template does; then ferry's client takes over its directory in place
// (RunInfoFiles) and reconnects with the files the Python client wrote; and
// the other way round.
func TestInteropPythonClientWithServer(t *testing.T) {
	t.Run("persistent", func(t *testing.T) { seedClientWithServer(t, pythonClient(t)) })
	t.Run("template", func(t *testing.T) { seedClientWithServer(t, pythonClient(t), "--template") })
}

// TestInteropCppClientWithServer: the same with a client built on Crypto++
// and Boost.Asio, as the deployed ones are: its RSA key, me.info and
// priv.key, OAEP and CBC come from the real library.
func TestInteropCppClientWithServer(t *testing.T) {
	seedClientWithServer(t, cppClient(t))
}

func seedClientWithServer(t *testing.T, c seedClient, args ...string) {
	ts := startServer(t, nil)
	dir, data := pythonClientDir(t, ts.addr, "seed client", 100_000)
	id := parseOK(t, c.run(t, dir, args...))
	ts.checkStored(t, id, "payload.dat", data)
	if again := parseOK(t, c.run(t, dir, args...)); again != id {
		t.Fatalf("reconnected as %s, registered as %s", again, id)
	}
	res, err := RunInfoFiles(context.Background(), dir)
	if err != nil || res.Registered || res.ClientID != id || !res.Verified {
		t.Fatalf("ferry in %s's place: %+v, %v", c.name, res, err)
	}

	dir2, data2 := pythonClientDir(t, ts.addr, "ferry first", 5000)
	res, err = RunInfoFiles(context.Background(), dir2)
	if err != nil || !res.Registered {
		t.Fatalf("ferry registers: %+v, %v", res, err)
	}
	ts.checkStored(t, res.ClientID, "payload.dat", data2)
	if got := parseOK(t, c.run(t, dir2, args...)); got != res.ClientID {
		t.Fatalf("%s reconnected as %s, want %s", c.name, got, res.ClientID)
	}
}

// TestInteropPythonClientResends: ferry's server answers 1030 with nothing,
// as the Python client expects of some servers.
func TestInteropPythonClientResends(t *testing.T) {
	t.Run("persistent", func(t *testing.T) { seedClientResends(t, pythonClient(t)) })
	t.Run("template", func(t *testing.T) { seedClientResends(t, pythonClient(t), "--template") })
}

func TestInteropCppClientResends(t *testing.T) {
	seedClientResends(t, cppClient(t))
}

func seedClientResends(t *testing.T, c seedClient, args ...string) {
	var mu sync.Mutex
	bad := 0
	ts := startServer(t, func(s *Server) {
		s.sumHook = func(sum uint32) uint32 {
			mu.Lock()
			defer mu.Unlock()
			if bad++; bad <= 3 {
				return ^sum
			}
			return sum
		}
	})
	dir, data := pythonClientDir(t, ts.addr, "resender", 20_000)
	id := parseOK(t, c.run(t, dir, args...))
	ts.checkStored(t, id, "payload.dat", data)

	mu.Lock()
	bad = -100 // every answer wrong from now on
	mu.Unlock()
	if out := c.run(t, dir, args...); out != "GAVEUP" {
		t.Fatalf("%s said %q, want GAVEUP", c.name, out)
	}
}
