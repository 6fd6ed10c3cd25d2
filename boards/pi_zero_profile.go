//go:build ferry_pi_zero

package boards

const profileName = "pi-zero"
