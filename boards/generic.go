//go:build !ferry_arm64 && !ferry_ath79 && !ferry_darwin_amd64 && !ferry_darwin_arm64 && !ferry_pi_2_3 && !ferry_pi_zero && !ferry_ramips_mt7621 && !ferry_windows_amd64 && !ferry_windows_arm64 && !ferry_x86_64

package boards

// profileName is Generic's name in a build without a ferry_* tag. A build
// with two ferry_* tags fails to compile: profileName is declared twice.
const profileName = "generic"
