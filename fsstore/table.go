package fsstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Table file names in the data directory.
const (
	ClientsTable = "clients.log"
	FilesTable   = "files.log"
	FilesDir     = "files"
)

// loaded is what reading one table found.
type loaded struct {
	f        *os.File // nil when read-only
	size     int64    // file size after any cut
	rewrite  bool     // header damaged or short: rewrite the table
	upgrade  bool     // an older version: rewrite the table
	findings []Problem
	records  int
}

// loadTable reads the table at path into idx: it maps the file into idx's
// view and applies every intact record; apply's error marks a record as
// damaged. With write set, a missing table is created, a leftover compaction
// file removed and a torn tail cut off, and the file is returned open for
// appending.
func loadTable(path string, kind byte, write bool, idx tableIndex) (*loaded, error) {
	ld := &loaded{}
	if write {
		if err := os.Remove(path + compactSuffix); err == nil {
			ld.note(ProblemLeftover, path+compactSuffix, -1, "unfinished compaction removed", true)
		}
	}
	f, err := openTableFile(path, kind, write)
	if errors.Is(err, fs.ErrNotExist) && !write {
		return ld, nil // nothing to check yet: Open creates it
	}
	if err != nil {
		return nil, fmt.Errorf("fsstore: open %s: %w", path, err)
	}
	if err := ld.mapAndRead(f, path, kind, idx); err != nil {
		f.Close()
		return nil, err
	}
	if write {
		if err := ld.cutTail(f, path); err != nil {
			f.Close()
			return nil, err
		}
		ld.f = f
	} else {
		f.Close()
	}
	return ld, nil
}

// mapAndRead maps the table into idx's view and reads it.
func (ld *loaded) mapAndRead(f *os.File, path string, kind byte, idx tableIndex) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("fsstore: %s: %w", path, err)
	}
	m, unmap, err := mapFile(f, fi.Size())
	if err != nil {
		return fmt.Errorf("fsstore: map %s: %w", path, err)
	}
	v := idx.view()
	v.mapped, v.unmap = m, unmap
	types := uint32(1) << recClient
	if kind == kindFiles {
		types = 1<<recFile | 1<<recFile2
	}
	idx.reserve(countRecords(m, types))
	return ld.read(m, path, kind, idx.apply)
}

// openTableFile opens a table, creating an empty one atomically if missing
// and write is set.
func openTableFile(path string, kind byte, write bool) (*os.File, error) {
	if !write {
		return os.Open(path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, _, err = writeTable(path, kind, nil)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
	}
	return f, err
}

// read checks the header and scans the records of the table's bytes.
func (ld *loaded) read(data []byte, path string, kind byte, apply func(typ byte, p []byte, off int64) error) error {
	h := data[:min(len(data), HeaderSize)]
	state, err := checkHeader(h, kind)
	if err != nil {
		return fmt.Errorf("fsstore: %s: %w", path, err)
	}
	ld.upgrade = state == headerOld
	if state == headerShort {
		ld.rewrite = true
		ld.note(ProblemHeader, path, 0, fmt.Sprintf("table shorter than its header (%d bytes)", len(h)), false)
		return nil
	}
	var bad int
	res := scan(bytes.NewReader(data[HeaderSize:]), HeaderSize, int64(len(data)), func(typ byte, p []byte, off int64) {
		if err := apply(typ, p, off); err != nil {
			bad++
			ld.note(ProblemDamaged, path, off, fmt.Sprintf("record type %d: %v", typ, err), false)
		}
	})
	if res.err != nil {
		return fmt.Errorf("fsstore: read %s: %w", path, res.err)
	}
	ld.records = res.nRecords - bad
	if state == headerDamaged {
		if string(h[:8]) != string(tableMagic[:]) && res.nRecords == 0 {
			return fmt.Errorf("fsstore: %s: %w (no ferry header and no ferry records); move it out of the data directory", path, ErrNotTable)
		}
		ld.rewrite = true
		ld.note(ProblemHeader, path, 0, "table header damaged", false)
	}
	for _, d := range res.damaged {
		ld.note(ProblemDamaged, path, d.off, fmt.Sprintf("%d damaged bytes skipped", d.len), false)
	}
	if res.tail > 0 {
		ld.note(ProblemTornTail, path, res.end, fmt.Sprintf("torn tail of %d bytes", res.tail), false)
	}
	ld.size = res.end
	return nil
}

// cutTail truncates the torn tail found by read.
func (ld *loaded) cutTail(f *os.File, path string) error {
	if ld.rewrite {
		return nil // the whole table is about to be rewritten
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("fsstore: %s: %w", path, err)
	}
	if fi.Size() > ld.size {
		if err := f.Truncate(ld.size); err != nil {
			return fmt.Errorf("fsstore: cut torn tail of %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("fsstore: cut torn tail of %s: %w", path, err)
		}
		ld.markRepaired(ProblemTornTail)
	}
	_, err = f.Seek(ld.size, io.SeekStart)
	return err
}

func (ld *loaded) note(kind ProblemKind, path string, off int64, detail string, repaired bool) {
	ld.findings = append(ld.findings, Problem{Kind: kind, Path: filepath.Base(path), Offset: off, Detail: detail, Repaired: repaired})
}

func (ld *loaded) markRepaired(kind ProblemKind) {
	for i := range ld.findings {
		if ld.findings[i].Kind == kind {
			ld.findings[i].Repaired = true
		}
	}
}
