//go:build ferry_arm64

package boards

const profileName = "arm64"
