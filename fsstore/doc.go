// Package fsstore keeps the server's state: the client table, the file table
// and the stored files, in one data directory, without a database.
//
// Each table is a flat append-only file of checksummed records; a later record
// for the same key supersedes an earlier one, and an in-memory index built on
// Open answers every query. Records that must survive a crash (registrations,
// keys, committed uploads) are acknowledged only after an fsync, shared by
// every writer waiting at the same time (group commit). A torn tail left by a
// crash is cut off on Open; a damaged record in the middle is reported with
// its offset and skipped. Superseded records are dropped by compaction, which
// rewrites a table into a temporary file and renames it over the old one.
//
// Data directory layout:
//
//	DIR/clients.log                     client table
//	DIR/files.log                       file table
//	DIR/files/<32 hex client id>/<path> stored files, in folders
//	DIR/tmp/.ferry-tmp-*                uploads in progress (emptied by Open)
//
// Table file layout (all integers little-endian, whatever the machine):
//
//	 0       8    10   11   12       16
//	+--------+----+----+----+--------+---------+---------+---
//	| magic  |ver |kind|rsv | crc32c | record  | record  | ...
//	+--------+----+----+----+--------+---------+---------+---
//	"FERRYTBL"  1   1/2  0   of 0..11
//
//	record:
//	 0    1    2    3    4            8            12
//	+----+----+----+----+------------+------------+--------------+
//	|0xFE|0x52|type|rsv | length u32 | crc32c u32 | payload      |
//	+----+----+----+----+------------+------------+--------------+
//	 crc32c (Castagnoli) covers bytes 0..7 and the payload.
//
//	file record (type 5):
//	 0           16                50      52        52+N
//	+-----------+------------------+-------+---------+------------------+
//	| client id | version (34)     | N u16 | path    | previous version |
//	+-----------+------------------+-------+---------+------------------+
//	 version: size i64, time i64, cksum u32, flags u8, 0, mode u32, mtime i64;
//	 the previous version only in a pending record that replaces one.
//
// docs/STORAGE.md describes every payload byte and the recovery rules.
//
// Each client has its own tree under DIR/files/<id>: files (listed by
// records, with mode and mtime) in folders (on disk only). Every path from
// the wire is checked (ValidatePath) and resolved inside the client's root
// through os.Root without following symlinks.
//
// The operator can disable a client, enable it again, or remove it with its
// files (clients_admin.go); the store records that, the server enforces it.
//
// The package does not speak the wire protocol, does not authenticate
// anyone, and does not decide what a client may do with its own tree beyond
// refusing paths that are not plain relative paths (ValidatePath).
package fsstore
