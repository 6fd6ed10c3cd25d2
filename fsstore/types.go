package fsstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// KeyKind says what kind of public key a client registered.
type KeyKind uint8

// Key kinds.
const (
	KeyNone    KeyKind = 0 // registered but no key yet (classic protocol sends the key after registering)
	KeyEd25519 KeyKind = 1 // 32-byte Ed25519 public key (ferry's secure protocol v4)
	KeyRSA     KeyKind = 2 // classic protocol v3: X.509 SubjectPublicKeyInfo DER of an RSA key (160 bytes for RSA-1024)
)

// Client is one registered client.
type Client struct {
	ID         [16]byte
	Name       string
	KeyKind    KeyKind
	PublicKey  []byte // a copy owned by the caller
	Registered time.Time
	LastSeen   time.Time
	Disabled   bool      // the operator disabled it: the server refuses it (DisableClient)
	DisabledAt time.Time // when it was disabled; zero if it is not
}

// File is the latest record of one stored file.
type File struct {
	ClientID [16]byte
	Name     string // the path as sent by the client ("logs/2026/x.log"), validated by ValidatePath
	Path     string // relative to the data directory, slash-separated: "files/<32 hex id>/<name>"
	Verified bool   // the client confirmed the checksum and the bytes at Path are the ones recorded
	Size     int64
	Cksum    uint32 // POSIX cksum of the stored bytes
	Time     time.Time
	Classic  bool        // uploaded over the classic (v3) protocol
	Mode     os.FileMode // permission bits the client sent, sanitized (see SetMeta); 0 in records of the previous release
	MTime    time.Time   // the source's modification time; zero when not sent or in records of the previous release
}

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Logf receives recovery findings: damaged records with their offset,
	// torn tails cut off, interrupted commits resolved. nil discards them.
	Logf func(format string, args ...any)
	// CompactRatio: a table is compacted when its superseded bytes exceed
	// CompactRatio times its live bytes. 0 means 1.
	CompactRatio float64
	// CompactMinBytes: a table smaller than this is never compacted. 0
	// means 1 MiB.
	CompactMinBytes int64
}

// Errors callers branch on.
var (
	// ErrNameTaken: Register was given a name another client holds.
	ErrNameTaken = errors.New("fsstore: name already registered")
	// ErrBadName: a file name from the wire is not a plain file name.
	ErrBadName = errors.New("fsstore: bad file name")
	// ErrBadClientName: a client name is empty, too long or has control characters.
	ErrBadClientName = errors.New("fsstore: bad client name")
	// ErrBadKey: a public key does not fit its kind.
	ErrBadKey = errors.New("fsstore: bad public key")
	// ErrNoClient: no client has this ID.
	ErrNoClient = errors.New("fsstore: no such client")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("fsstore: store closed")
	// ErrLocked: another process has the data directory open.
	ErrLocked = errors.New("fsstore: data directory in use by another process")
	// ErrUploadDone: the Upload was already committed or aborted.
	ErrUploadDone = errors.New("fsstore: upload already committed or aborted")
	// ErrExists: the path exists (a commit with NoClobber, Mkdir, Rename
	// with noClobber or onto a folder).
	ErrExists = errors.New("fsstore: already exists")
	// ErrNotFound: no listed file and no folder has this path.
	ErrNotFound = errors.New("fsstore: no such file or folder")
	// ErrIsDir: the path is a folder where a file is needed.
	ErrIsDir = errors.New("fsstore: is a folder")
	// ErrNotDir: a component of the path is a file (or something else that
	// is not a folder) where a folder is needed.
	ErrNotDir = errors.New("fsstore: not a folder")
	// ErrNotEmpty: Remove without recursive of a folder that has content.
	ErrNotEmpty = errors.New("fsstore: folder not empty")
)

// Path limits.
const (
	MaxNameSize = 255  // bytes in one path component
	MaxPathSize = 4095 // bytes in a path
)

// tempPrefix starts the names of uploads in progress; ValidateName refuses
// names that start with reservedPrefix so that no upload can collide.
const (
	tempPrefix     = ".ferry-tmp-"
	reservedPrefix = ".ferry"
)

// ValidateName checks one path component received from the wire: 1 to 255
// bytes of valid UTF-8, not "." or "..", without '/', '\\', NUL, C0 or C1
// control characters, bidirectional controls or characters that look like
// a slash, and not starting with ".ferry" (reserved for temporary files).
// The error wraps ErrBadName and says why.
func ValidateName(name string) error {
	why := nameProblem([]byte(name))
	if why == "" {
		return nil
	}
	return fmt.Errorf("%w %q: %s", ErrBadName, truncName(name), why)
}

// ValidatePath checks a slash-separated relative path from the wire
// ("logs/2026/x.log"): 1 to 4095 bytes, no leading or trailing '/', no
// empty, "." or ".." component, and each component valid for ValidateName.
// The error wraps ErrBadName and says why.
func ValidatePath(p string) error {
	why := pathProblem([]byte(p), nameProblem)
	if why == "" {
		return nil
	}
	return fmt.Errorf("%w %q: %s", ErrBadName, truncName(p), why)
}

// pathProblem says why p is not a valid path whose components pass
// nameCheck (nameProblem for paths from the wire, safeNameProblem for
// records), or "".
func pathProblem(p []byte, nameCheck func([]byte) string) string {
	switch {
	case len(p) == 0:
		return "empty"
	case len(p) > MaxPathSize:
		return fmt.Sprintf("longer than %d bytes", MaxPathSize)
	case p[0] == '/':
		return "absolute path (starts with /)"
	case p[len(p)-1] == '/':
		return "ends with /"
	}
	for len(p) > 0 {
		elem := p
		if i := bytes.IndexByte(p, '/'); i >= 0 {
			elem, p = p[:i], p[i+1:]
		} else {
			p = nil
		}
		switch why := nameCheck(elem); {
		case len(elem) == 0:
			return "empty path component (//)"
		case string(elem) == "." || string(elem) == "..":
			return "path component . or .."
		case why != "":
			return fmt.Sprintf("component %q: %s", truncName(string(elem)), why)
		}
	}
	return ""
}

// nameProblem says why a name from the wire is refused, or "": the safety
// rules of safeNameProblem, and characters that make a name display other
// than it is.
func nameProblem(name []byte) string {
	if why := safeNameProblem(name); why != "" {
		return why
	}
	for i := 0; i < len(name); {
		r, n := rune(name[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(name[i:])
		}
		i += n
		if why := runeProblem(r); why != "" {
			return why
		}
	}
	return ""
}

// safeNameProblem says why a name cannot be one path element, or "". Table
// records are checked with it, so that a forged record cannot point
// elsewhere while the files of the previous release, whose names had only
// these rules, keep their records.
func safeNameProblem(name []byte) string {
	switch {
	case len(name) == 0:
		return "empty"
	case len(name) > MaxNameSize:
		return fmt.Sprintf("longer than %d bytes", MaxNameSize)
	case string(name) == "." || string(name) == "..":
		return "not a file name"
	case !utf8.Valid(name):
		return "not valid UTF-8"
	case len(name) >= len(reservedPrefix) && bytes.EqualFold(name[:len(reservedPrefix)], []byte(reservedPrefix)):
		return "names starting with " + reservedPrefix + " are reserved"
	}
	for _, c := range name {
		switch {
		case c == '/' || c == '\\':
			return "contains a path separator"
		case c == 0:
			return "contains NUL"
		case c < 0x20 || c == 0x7f:
			return "contains a control character"
		}
	}
	return ""
}

// runeProblem says why a character may not appear in a name, or "".
func runeProblem(r rune) string {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return "contains a control character"
	case r == 0x200e || r == 0x200f || r == 0x061c || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
		return fmt.Sprintf("contains the bidirectional control U+%04X", r)
	case strings.ContainsRune(lookalikeSlashes, r):
		return fmt.Sprintf("contains U+%04X, which looks like a slash", r)
	}
	return ""
}

// lookalikeSlashes are characters a terminal shows much like '/' or '\\'.
const lookalikeSlashes = "\u2215\u2044\u29f8\uff0f\uff3c\u2216\u29f9\ufe68"

// truncName keeps error messages short.
func truncName(name string) string {
	if len(name) > 64 {
		return name[:64] + "..."
	}
	return name
}
