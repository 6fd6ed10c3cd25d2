//go:build ferry_pi_2_3

package boards

const profileName = "pi-2-3"
