//
// Copyright 2014-2026 Cristian Maglie. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.
//

// ferry patch: the port name filters without the regexp package, which
// costs about 300 KB in a stripped linux/mips binary (see ../README.md).

package serial

import "strings"

// prefixDigitFilter matches a name that contains one of its prefixes
// followed by a decimal digit, anywhere in the name: the unanchored regexp
// "(p1|p2|...)[0-9]{1,3}".
type prefixDigitFilter []string

func (f prefixDigitFilter) MatchString(s string) bool {
	for i := 0; i < len(s); i++ {
		for _, p := range f {
			j := i + len(p)
			if strings.HasPrefix(s[i:], p) && j < len(s) && '0' <= s[j] && s[j] <= '9' {
				return true
			}
		}
	}
	return false
}

// prefixFilter matches a name that starts with one of its prefixes: the
// regexp "^(p1|p2|...).*".
type prefixFilter []string

func (f prefixFilter) MatchString(s string) bool {
	for _, p := range f {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
