//go:build ferry_ath79

package boards

const profileName = "ath79"
