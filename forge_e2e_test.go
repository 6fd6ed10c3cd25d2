package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigurn/crc16"
)

// An attacker on a -stdio line drops a DATA frame of an upload and forges
// the server's ACK of it (the link's CRCs are no MAC; docs/LINK.md 5.3).
// The client used to hang for minutes despite -timeout 15s and
// -link-timeout 5s; it must fail with exit 1 within about the link
// timeout, and the server must store nothing and end with its input.
func TestStdioForgedAck(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of timeouts")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	writeRandom(t, src, 1<<20)
	data := filepath.Join(dir, "srv")
	srv := exec.Command(ferryBin, "serve", "-stdio", "-data", data, "-link-timeout", "5s")
	cli := exec.Command(ferryBin, "send", "-stdio", "-trust-new", "-state", filepath.Join(dir, "st"), "-q",
		"-timeout", "15s", "-link-timeout", "5s", src)
	srvIn, _ := srv.StdinPipe()
	srvOut, _ := srv.StdoutPipe()
	cliIn, _ := cli.StdinPipe()
	cliOut, _ := cli.StdoutPipe()
	var srvErr, cliErr bytes.Buffer
	srv.Stderr, cli.Stderr = &srvErr, &cliErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	go forgeRelay(cliOut, srvIn, srvOut, cliIn, 40)
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cli.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(40 * time.Second):
		cli.Process.Kill()
		srv.Process.Kill()
		t.Fatalf("client still running after 40s\nclient: %s\nserver: %s", cliErr.String(), srvErr.String())
	}
	el := time.Since(start)
	if code := exitOf(t, err); code != 1 || !strings.Contains(cliErr.String(), "no progress") {
		t.Errorf("client: exit %d, stderr %q; want exit 1 and \"no progress\"", code, cliErr.String())
	}
	if el > 15*time.Second {
		t.Errorf("client took %v, past its -timeout 15s", el)
	}
	t.Logf("client failed after %v: %s", el.Round(100*time.Millisecond), strings.TrimSpace(cliErr.String()))
	waitServer(t, srv, 20*time.Second, "server did not end with its input", &srvErr)
	if got := storedCopy(t, data, "big.bin"); got != nil {
		t.Errorf("a broken upload stored %d bytes", len(got))
	}
}

// forgeRelay joins a stdio client to a stdio server as ssh would, but
// drops the client's drop-th DATA frame and sends the client a forged
// ACK of it, keyed with the session ID read from the client's SYN.
func forgeRelay(cliOut io.Reader, srvIn io.WriteCloser, srvOut io.Reader, cliIn io.WriteCloser, drop int) {
	var mu sync.Mutex // the two directions' writes to the client
	toClient := func(b []byte) {
		mu.Lock()
		cliIn.Write(b)
		mu.Unlock()
	}
	go func() {
		io.Copy(writerFunc(func(b []byte) (int, error) { toClient(b); return len(b), nil }), srvOut)
		cliIn.Close()
	}()
	defer srvIn.Close()
	var pend []byte
	var sid uint32
	buf := make([]byte, 16<<10)
	for {
		n, err := cliOut.Read(buf)
		pend = append(pend, buf[:n]...)
		for len(pend) >= 7 {
			if pend[0] != 0x9E { // the client writes frames only; pass anything else
				srvIn.Write(pend[:1])
				pend = pend[1:]
				continue
			}
			size := 11 + int(binary.LittleEndian.Uint16(pend[1:3])&0xFFF)
			if len(pend) < size {
				break
			}
			f := pend[:size]
			switch typ := f[2] >> 4; {
			case typ == 8 && size >= 7+9: // SYN: magic 4, version 1, session ID 4
				sid = binary.LittleEndian.Uint32(f[12:16])
			case typ == 0:
				if drop--; drop == 0 {
					toClient(forgedAck(sid, f[3]+1))
					f = nil
				}
			}
			srvIn.Write(f)
			pend = pend[size:]
		}
		if err != nil {
			return
		}
	}
}

// forgedAck is an ACK frame of the server with cumulative ack ack.
func forgedAck(sid uint32, ack byte) []byte {
	b := []byte{0x9E, 0x00, 0x10, 0, ack, 0, 0, 0, 0, 0, 0} // type 1, length 0
	binary.LittleEndian.PutUint16(b[5:7], crc16.Checksum(b[:5], crc16.MakeTable(crc16.CRC16_CCITT_FALSE)))
	tab := crc32.MakeTable(crc32.Castagnoli)
	key := append(binary.LittleEndian.AppendUint32(nil, sid), 'S')
	binary.LittleEndian.PutUint32(b[7:], crc32.Update(crc32.Update(0, tab, key), tab, b[:7]))
	return b
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
