//go:build ferry_darwin_amd64

package boards

const profileName = "darwin-amd64"
