package server

import "testing"

// BenchmarkUpload measures a whole upload over loopback TCP, handshake
// included: client read, cksum and seal; server open, cksum and write.
func BenchmarkUpload(b *testing.B) {
	const size = 64 << 20
	f := newFixture(b, func(c *Config) { c.Logf = nil })
	path, _ := randomFile(b, size)
	state := b.TempDir()
	b.SetBytes(size)
	for b.Loop() {
		c, err := f.connect(state, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Upload(path, "bench.bin"); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
