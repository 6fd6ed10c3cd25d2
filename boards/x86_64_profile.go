//go:build ferry_x86_64

package boards

const profileName = "x86_64"
