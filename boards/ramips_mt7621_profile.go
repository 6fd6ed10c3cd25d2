//go:build ferry_ramips_mt7621

package boards

const profileName = "ramips-mt7621"
