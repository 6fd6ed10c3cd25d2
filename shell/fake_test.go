package shell

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"ferry/client"
	"ferry/frame"
)

// fakeServer is a session on an in-memory tree, for testing the shell
// without a server. It fails the test if two methods run at once, as the
// real session must never see.
type fakeServer struct {
	t          *testing.T
	busy       atomic.Int32
	keepalives atomic.Int32
	mu         sync.Mutex // guards what follows (the test reads it too)
	nodes      map[string]*fakeNode
	calls      []string
	block      chan struct{}                // when set, Get waits on it (closed by abort)
	onGet      func(items []client.GetItem) // when set, Get calls it first
	started    chan struct{}                // when set, Get closes it on entry
}

type fakeNode struct {
	dir  bool
	data []byte
}

var _ Client = (*fakeServer)(nil)

func newFake(t *testing.T) *fakeServer {
	return &fakeServer{t: t, nodes: map[string]*fakeNode{}}
}

// enter records a call and checks that no other runs.
func (f *fakeServer) enter(call string) func() {
	if f.busy.Add(1) != 1 {
		f.t.Errorf("%s while another call runs", call)
	}
	if call != "keepalive" {
		f.mu.Lock()
		f.calls = append(f.calls, call)
		f.mu.Unlock()
	}
	return func() { f.busy.Add(-1) }
}

func (f *fakeServer) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeServer) add(p string, data string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addLocked(p, &fakeNode{data: []byte(data)})
}

func (f *fakeServer) addDir(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addLocked(p, &fakeNode{dir: true})
}

func (f *fakeServer) addLocked(p string, n *fakeNode) {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		f.nodes[d] = &fakeNode{dir: true}
	}
	f.nodes[p] = n
}

func notFound(op, p string) error {
	return &client.OpError{Op: op, Path: p, Reason: frame.FailNotFound, Text: "no such file or folder"}
}

func (f *fakeServer) entry(p string) client.Entry {
	n := f.nodes[p]
	return client.Entry{Path: p, Dir: n.dir, Size: int64(len(n.data)), Mode: 0o644}
}

// under lists the paths below p: its children, or its whole tree.
func (f *fakeServer) under(p string, all bool) []string {
	var out []string
	for q := range f.nodes {
		rel, ok := strings.CutPrefix(q, p+"/")
		if p == "" {
			rel, ok = q, true
		}
		if ok && (all || !strings.Contains(rel, "/")) {
			out = append(out, q)
		}
	}
	sort.Strings(out)
	return out
}

func (f *fakeServer) List(p string, recursive bool) ([]client.Entry, error) {
	defer f.enter("list " + p)()
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.nodes[p]
	switch {
	case p != "" && !ok:
		return nil, notFound("ls", p)
	case ok && !n.dir:
		return []client.Entry{f.entry(p)}, nil
	}
	var out []client.Entry
	for _, q := range f.under(p, recursive) {
		out = append(out, f.entry(q))
	}
	return out, nil
}

func (f *fakeServer) Get(items []client.GetItem, done func(client.GetResult)) error {
	defer f.enter("get " + items[0].Remote)()
	if f.onGet != nil {
		f.onGet(items)
	}
	if f.started != nil {
		close(f.started)
	}
	if f.block != nil {
		<-f.block
		return errors.New("fake: link closed")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range items {
		it := &items[i]
		n, ok := f.nodes[it.Remote]
		switch {
		case it.Remote != "" && !ok:
			done(client.GetResult{Item: it, Remote: it.Remote, Err: notFound("get", it.Remote)})
		case ok && !n.dir:
			done(f.write(it, it.Remote, filepath.Join(it.Dir, it.Name)))
		default:
			for _, q := range f.under(it.Remote, true) {
				rel := strings.TrimPrefix(strings.TrimPrefix(q, it.Remote), "/")
				done(f.write(it, q, filepath.Join(it.Dir, it.Name, rel)))
			}
		}
	}
	return nil
}

func (f *fakeServer) write(it *client.GetItem, remote, local string) client.GetResult {
	n := f.nodes[remote]
	r := client.GetResult{Item: it, Remote: remote, Local: local, Dir: n.dir, Size: int64(len(n.data))}
	if n.dir {
		r.Err = os.MkdirAll(local, 0o755)
		return r
	}
	os.MkdirAll(filepath.Dir(local), 0o755)
	r.Err = os.WriteFile(local, n.data, 0o644)
	return r
}

func (f *fakeServer) Put(items []client.PutItem, done func(client.PutResult)) error {
	defer f.enter("put " + items[0].Remote)()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range items {
		it := &items[i]
		b, err := os.ReadFile(it.Local)
		switch {
		case err != nil:
		case f.nodes[it.Remote] != nil && f.nodes[it.Remote].dir:
			err = &client.OpError{Op: "put", Path: it.Remote, Reason: frame.FailIsDir, Text: "is a folder"}
		case it.NoClobber && f.nodes[it.Remote] != nil:
			err = &client.OpError{Op: "put", Path: it.Remote, Reason: frame.FailExists, Text: "exists"}
		default:
			f.addLocked(it.Remote, &fakeNode{data: b})
		}
		done(client.PutResult{Item: it, Size: int64(len(b)), Err: err})
	}
	return nil
}

func (f *fakeServer) Remove(p string, recursive bool) (int, error) {
	defer f.enter("rm " + p)()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nodes[p] == nil {
		return 0, notFound("rm", p)
	}
	for _, q := range f.under(p, true) {
		delete(f.nodes, q)
	}
	delete(f.nodes, p)
	return 1, nil
}

func (f *fakeServer) Rename(oldPath, newPath string, noClobber bool) (bool, error) {
	defer f.enter("mv " + oldPath + " " + newPath)()
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[oldPath]
	if n == nil {
		return false, notFound("mv", oldPath)
	}
	for _, q := range f.under(oldPath, true) {
		f.nodes[newPath+strings.TrimPrefix(q, oldPath)] = f.nodes[q]
		delete(f.nodes, q)
	}
	delete(f.nodes, oldPath)
	f.addLocked(newPath, n)
	return false, nil
}

func (f *fakeServer) Mkdir(p string, parents bool) error {
	defer f.enter("mkdir " + p)()
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := path.Dir(p); !parents && d != "." && f.nodes[d] == nil {
		return notFound("mkdir", p)
	}
	f.addLocked(p, &fakeNode{dir: true})
	return nil
}

func (f *fakeServer) Usage() (client.Usage, error) {
	defer f.enter("df")()
	return client.Usage{Files: 3, Bytes: 2048, Free: -1, MaxFile: 1 << 30}, nil
}

func (f *fakeServer) Keepalive() error {
	defer f.enter("keepalive")()
	f.keepalives.Add(1)
	return nil
}

func (f *fakeServer) Close() error {
	defer f.enter("close")()
	return nil
}
