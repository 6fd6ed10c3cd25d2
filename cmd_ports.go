package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

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
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PORT\tUSB VID:PID\tSERIAL\tDESCRIPTION")
	for _, p := range ports {
		id := "-"
		if p.IsUSB {
			id = p.VID + ":" + p.PID
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Name, id, dash(p.SerialNumber), dash(p.Product))
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
