//go:build !unix

package server

// syscallNoFollow: no O_NOFOLLOW here; os.Root still keeps the open inside
// the published folder.
const syscallNoFollow = 0
