//
// Copyright 2014-2026 Cristian Maglie. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.
//

package serial

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// The filters must agree with the regular expressions they replace, on
// real device names and on random names built from their pieces.
func TestPortFiltersMatchRegexps(t *testing.T) {
	linux := prefixDigitFilter{"ttyS", "ttyHS", "ttyUSB", "ttyACM", "ttyAMA", "rfcomm", "ttyO", "ttymxc"}
	linuxRE := regexp.MustCompile("(ttyS|ttyHS|ttyUSB|ttyACM|ttyAMA|rfcomm|ttyO|ttymxc)[0-9]{1,3}")
	bsd := prefixFilter{"cu.", "tty."}
	bsdRE := regexp.MustCompile(`^(cu|tty)\..*`)

	names := []string{"", "ttyS0", "ttyS", "ttyS1234", "ttyUSB0", "ttyACM12", "ttyAMA0", "ttyATH0",
		"rfcomm3", "ttyO2", "ttymxc1", "ttyHS0", "tty0", "tty", "console", "xttyUSB9x", "ttyUSBx",
		"cu.usbserial-1420", "tty.usbmodem1", "cu", "cux", "ttyX", "ptmx", "ttyGS0", "ttyS\n1"}
	pieces := []string{"tty", "S", "HS", "USB", "ACM", "AMA", "O", "mxc", "rfcomm", "cu", ".", "0", "7", "9", "x", "\xff"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var s string
		for n := r.IntN(6); n >= 0; n-- {
			s += pieces[r.IntN(len(pieces))]
		}
		names = append(names, s)
	}
	for _, n := range names {
		if got, want := linux.MatchString(n), linuxRE.MatchString(n); got != want {
			t.Errorf("linux filter(%q) = %v, regexp says %v", n, got, want)
		}
		if got, want := bsd.MatchString(n), bsdRE.MatchString(n); got != want {
			t.Errorf("bsd filter(%q) = %v, regexp says %v", n, got, want)
		}
	}
}
