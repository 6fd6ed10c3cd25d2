// Package attack holds the resource attacks of "make test-attacks": the
// real ferry binary serves under a small descriptor limit (prlimit) or on
// a small tmpfs, a test floods it with idle connections or fills its disk,
// and an honest "ferry send" must succeed during the attack (where the
// attack leaves it any chance) and after it, with the server still up.
//
// The tests carry the build tag "attacks": they need Linux, prlimit
// (util-linux) and, for the disk case, root to mount a tmpfs (else it is
// skipped), and take about a minute. There is no code here, only tests.
package attack
