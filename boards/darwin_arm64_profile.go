//go:build ferry_darwin_arm64

package boards

const profileName = "darwin-arm64"
