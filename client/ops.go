package client

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"ferry/crypt"
	"ferry/frame"
)

// The operations (get, list, remove, rename, mkdir, put with paths) need a
// server that negotiated crypt.FeatureOps; each is one file here named
// like its message (get.go, list.go, ...), and each request is answered, in
// order, by a done (2108) or a failed (2109). The shell and the one-shot
// commands call the same methods.

// ErrNoOps means the server is of the first release: it takes uploads of
// plain names only.
var ErrNoOps = errors.New("client: the server runs an older ferry that only takes uploads; upgrade it for get, ls, rm, mv, mkdir and folders")

// OpError is an operation the server refused (2109); the session goes on.
type OpError struct {
	Op     string // "get", "put", ...
	Path   string
	Reason uint16 // frame.Fail*
	Text   string // the server's words
}

func (e *OpError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", e.Op, e.Text)
	}
	return fmt.Sprintf("%s %s: %s", e.Op, e.Path, e.Text)
}

// Ops reports whether the server speaks the operations.
func (c *Client) Ops() bool { return c.sess.Features.Has(crypt.FeatureOps) }

// Compressed reports whether the session compresses file content.
func (c *Client) Compressed() bool { return c.sess.Features.Has(crypt.FeatureCompress) }

func (c *Client) needOps() error {
	if !c.Ops() {
		return ErrNoOps
	}
	return nil
}

// CleanPath turns a remote path as a user writes it ("/logs//2026/",
// "./x") into the form of the wire: slash-separated, relative to the
// client's root, no "." or empty components; "" is the root. A ".." that
// would leave the root is refused here, before the server sees it.
func CleanPath(p string) (string, error) {
	p = path.Clean("/" + strings.TrimSpace(p))
	if p == "/" {
		return "", nil
	}
	p = p[1:]
	if len(p) > frame.MaxPath {
		return "", fmt.Errorf("client: path of %d bytes, at most %d", len(p), frame.MaxPath)
	}
	return p, nil
}

// JoinPath resolves p against the remote folder dir, as cd does: an
// absolute p starts from the root.
func JoinPath(dir, p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return CleanPath(p)
	}
	return CleanPath(dir + "/" + p)
}

// readOp waits for the final answer of an operation: a done, or a failed
// turned into an *OpError.
func (c *Client) readOp(op, p string) (frame.Done, error) {
	h, b, err := c.read()
	if err != nil {
		return frame.Done{}, err
	}
	return c.final(op, p, h.Code, b)
}

// final decodes the answer that ends an operation.
func (c *Client) final(op, p string, code frame.Code, b []byte) (frame.Done, error) {
	switch code {
	case frame.CodeDone:
		d, err := frame.ParseDone(b)
		if err != nil {
			return d, fmt.Errorf("client: %w", err)
		}
		return d, nil
	case frame.CodeFailed:
		f, err := frame.ParseFailed(b)
		if err != nil {
			return frame.Done{}, fmt.Errorf("client: %w", err)
		}
		return frame.Done{}, &OpError{Op: op, Path: p, Reason: f.Reason, Text: f.Text}
	}
	return frame.Done{}, fmt.Errorf("client: unexpected %v to %s", code, op)
}

// simple sends a request and waits for its done or failed.
func (c *Client) simple(op string, code frame.Code, payload []byte, p string) (frame.Done, error) {
	if err := c.needOps(); err != nil {
		return frame.Done{}, err
	}
	if err := c.sess.WriteMsg(code, payload); err != nil {
		return frame.Done{}, err
	}
	return c.readOp(op, p)
}

// KeepaliveEvery is how often an idle client (a shell at its prompt)
// sends a keepalive: well within the server's default idle timeout (2
// minutes) and any sane -idle-timeout.
const KeepaliveEvery = 20 * time.Second

// Keepalive tells the server the client is still there (feature
// keepalive; no answer comes), so that a session idle at a prompt is not
// dropped by the server's idle timeout. Like every method, it must not run
// while another does. Without the feature it does nothing.
func (c *Client) Keepalive() error {
	if !c.sess.Features.Has(crypt.FeatureKeepalive) {
		return nil
	}
	return c.sess.WriteMsg(frame.CodeKeepalive, nil)
}

// modeOf keeps the permission bits a put may carry.
func modeOf(m uint32) uint32 { return m & 0o777 }

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
