//go:build ferry_windows_amd64

package boards

const profileName = "windows-amd64"
