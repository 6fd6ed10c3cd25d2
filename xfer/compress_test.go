//go:build !ferry_nocompress

package xfer

import (
	"bytes"
	"testing"
)

// TestCompressionWindow: a compressed chunk refers back into the chunks
// before it (random data repeated chunk after chunk costs one chunk on the
// wire, not six), and each Send starts without a window: a second file
// sent by the same Sender arrives whole at a Receiver that never saw the
// first.
func TestCompressionWindow(t *testing.T) {
	const chunk = 16384
	block := random(chunk)
	data := bytes.Repeat(block, 6)
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			c, s := pair(t, chunk)
			tx, rx := d.sendSide(c, s)
			snd := Sender{Compress: LevelSlowLink}
			for i, content := range [][]byte{data, block} {
				counter := &countingLink{}
				rc := Receiver{Pool: NewPool(1), Compressed: true} // a new window each file
				errc := make(chan error, 1)
				go func() {
					_, _, err := snd.Send(sendVia{tx, counter}, &File{Codes: d.codes, Size: int64(len(content)), End: true}, bytes.NewReader(content))
					errc <- err
				}()
				var got bytes.Buffer
				res, err := rc.ReceiveFile(rx, &Content{Codes: d.codes, Size: int64(len(content))}, &got)
				if err != nil { // release the sender
					c.Close()
					s.Close()
				}
				if serr := <-errc; err != nil || serr != nil || !res.OK() || !bytes.Equal(got.Bytes(), content) {
					t.Fatalf("file %d: receive %v, send %v, ok %v, equal %v", i, err, serr, res.OK(), bytes.Equal(got.Bytes(), content))
				}
				if wire, most := counter.n.Load(), int64(chunk+4096); i == 0 && wire > most {
					t.Fatalf("six copies of a random chunk: %d bytes on the wire, want at most %d", wire, most)
				}
			}
		})
	}
}
