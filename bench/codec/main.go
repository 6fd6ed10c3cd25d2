// Command codec measures flate's ratio on a file the way ferry compresses
// chunks: each chunk alone, and each chunk with the file's previous 32 KiB
// as its window (what ferry does, docs/PROTOCOL.md 4.10), at levels 1, 6
// and 9, and the whole file as one stream for reference. Every windowed
// chunk is inflated again and compared. It prints a markdown table:
//
//	go run ./bench/codec FILE
package main

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"os"
)

const window = 32 << 10

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench/codec FILE")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil || len(data) == 0 {
		fmt.Fprintln(os.Stderr, "codec:", err, len(data), "bytes")
		os.Exit(1)
	}
	fmt.Println("| chunk | level 1 alone, windowed | level 6 alone, windowed | level 9 alone, windowed |")
	fmt.Println("|---|---|---|---|")
	for _, chunk := range []int{16 << 10, 64 << 10, 256 << 10} {
		fmt.Printf("| %d KiB |", chunk>>10)
		for _, level := range []int{1, 6, 9} {
			alone, windowed := measure(data, chunk, level)
			fmt.Printf(" %.3f, %.3f |", ratio(alone, data), ratio(windowed, data))
		}
		fmt.Println()
	}
	var whole bytes.Buffer
	w, _ := flate.NewWriter(&whole, 9)
	w.Write(data)
	w.Close()
	fmt.Printf("| the whole file, level 9 | %.3f | | |\n", ratio(whole.Len(), data))
}

func ratio(n int, data []byte) float64 { return float64(n) / float64(len(data)) }

// measure returns the compressed bytes of data in chunks, alone and with
// the window (the writer takes the window, flushes, and what it writes
// after that is the chunk's stream).
func measure(data []byte, chunk, level int) (alone, windowed int) {
	var out switchWriter
	w, _ := flate.NewWriter(&out, level)
	for off := 0; off < len(data); off += chunk {
		p := data[off:min(off+chunk, len(data))]
		hist := data[max(0, off-window):off]
		var a bytes.Buffer
		wa, _ := flate.NewWriter(&a, level)
		wa.Write(p)
		wa.Close()
		alone += min(a.Len(), len(p)) // ferry sends a chunk raw when it does not shrink
		out.w = io.Discard
		w.Reset(&out)
		w.Write(hist)
		w.Flush()
		var b bytes.Buffer
		out.w = &b
		w.Write(p)
		w.Close()
		got, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(b.Bytes()), hist))
		if err != nil || !bytes.Equal(got, p) {
			panic(fmt.Sprintf("chunk at %d does not inflate back: %v", off, err))
		}
		windowed += min(b.Len(), len(p))
	}
	return alone, windowed
}

type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }
