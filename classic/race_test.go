//go:build race

package classic

// raceEnabled shrinks the large-file test: the race detector slows the
// byte loops tenfold, and the allocation check holds at any size.
const raceEnabled = true
