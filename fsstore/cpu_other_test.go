//go:build !unix

package fsstore

import "time"

func cpuTime() time.Duration { return 0 }
