// Package folders resolves paths inside one folder tree through open
// handles on its folders, kept in a small cache, so that an operation on a
// file deep in the tree costs one *at system call on its folder's handle
// instead of one openat and one close per component of its path (what
// os.Root does for every call). Copying thousands of small files into a
// few folders is the case it is for: fsstore's commits and a download's
// local writes.
//
// Every component is opened relative to its parent's handle with
// O_NOFOLLOW and O_DIRECTORY, and must be a plain name (not "", "." or
// ".."), so a path cannot leave the tree, and a symlink in it is never
// followed (it gives ENOTDIR), as with os.Root. A handle follows its
// folder: a folder renamed or removed after it was opened keeps its handle
// pointing at the moved (or deleted) folder, so whoever renames or removes
// folders in the tree calls Forget afterwards; an operation that fails
// with ENOENT on a handle whose folder was removed behind the tree's back
// can Forget and try again.
//
// It does not validate names beyond that, nor lock: a Tree is not safe for
// concurrent use. It exists on Linux only (elsewhere the callers keep their
// os.Root code; on macOS a durable fsync is F_FULLFSYNC, which os.File.Sync
// does and a plain fsync does not).
package folders
