//go:build ferry_windows_arm64

package boards

const profileName = "windows-arm64"
