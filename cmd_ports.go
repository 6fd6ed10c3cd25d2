package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"ferry/link"
)

func runPorts(args []string, stderr io.Writer) error {
	fs := newFlags("ports", "", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	ports, err := link.ListPorts()
	if err != nil {
		return fmt.Errorf("list serial ports: %w (a device path given to -serial works even when it is not listed)", err)
	}
	if len(ports) == 0 {
		fmt.Fprintln(stderr, "ferry: no serial ports found; a device path given to -serial (/dev/ttyS1, /dev/ttyATH0) works even when it is not listed")
		return nil
	}
	// Columns as ferry clients prints them (text/tabwriter's layout with
	// padding 2, without its code in the router builds).
	rows := [][]string{{"PORT", "USB VID:PID", "SERIAL", "DESCRIPTION"}}
	for _, p := range ports {
		id := "-"
		if p.IsUSB {
			id = p.VID + ":" + p.PID
		}
		rows = append(rows, []string{p.Name, id, dash(p.SerialNumber), dash(p.Product)})
	}
	printColumns(os.Stdout, rows)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printColumns prints rows with each column padded to its widest cell.
func printColumns(w io.Writer, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			width[i] = max(width[i], len([]rune(cell)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			if i == len(r)-1 {
				b.WriteString(cell)
				break
			}
			b.WriteString(cell + strings.Repeat(" ", width[i]-len([]rune(cell))+2))
		}
		fmt.Fprintln(w, b.String())
	}
}
