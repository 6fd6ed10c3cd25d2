#!/usr/bin/env bash
# demo.sh: a ferry server and client on loopback; an 8 MiB file and a small
# tree are sent, listed and brought back, and every copy is compared byte
# for byte with the original.
# Usage: scripts/demo.sh [path/to/ferry]
set -euo pipefail
ferry=${1:-bin/ferry}
[ -x "$ferry" ] || { echo "demo: $ferry not built; run make build" >&2; exit 1; }
ferry=$(cd "$(dirname "$ferry")" && pwd)/$(basename "$ferry")

work=$(mktemp -d)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# a free port on 127.0.0.1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 17417)

echo "demo: starting a server on 127.0.0.1:$port with data in $work/srv"
"$ferry" serve -listen "127.0.0.1:$port" -data "$work/srv" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
	grep -q "serving on" "$work/server.log" 2>/dev/null && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
	sleep 0.05
done

echo "demo: generating an 8 MiB file"
head -c $((8 << 20)) /dev/urandom >"$work/demo.bin"

echo "demo: sending it, trusting the server through its CA ($work/srv/ca.pem)"
"$ferry" send -q -server "127.0.0.1:$port" -ca "$work/srv/ca.pem" -name demo-client \
	-state "$work/client" "$work/demo.bin"

echo "demo: sending it again (the client now reconnects with its registered key)"
"$ferry" send -q -server "127.0.0.1:$port" -ca "$work/srv/ca.pem" \
	-state "$work/client" -as demo-again.bin "$work/demo.bin"

stored=$(find "$work/srv/files" -name demo.bin -type f)
[ -n "$stored" ] || { echo "demo: FAILED: no stored copy found" >&2; exit 1; }
if cmp -s "$work/demo.bin" "$stored" && cmp -s "$work/demo.bin" "$(dirname "$stored")/demo-again.bin"; then
	echo "demo: OK: both stored copies are identical to the original ($(cksum <"$stored" | cut -d' ' -f1) is the cksum)"
else
	echo "demo: FAILED: stored copy differs" >&2
	exit 1
fi
echo "demo: sending a folder tree (nested folders, an executable, an empty file)"
mkdir -p "$work/tree/etc/config" "$work/tree/bin" "$work/tree/empty-dir"
printf 'config system\n\toption hostname router\n' >"$work/tree/etc/config/system"
printf '#!/bin/sh\necho hello\n' >"$work/tree/bin/hello" && chmod 755 "$work/tree/bin/hello"
: >"$work/tree/etc/empty"
touch -d '2020-01-02 03:04:05' "$work/tree/etc/config/system"
"$ferry" send -q -r -server "127.0.0.1:$port" -ca "$work/srv/ca.pem" -state "$work/client" "$work/tree"

echo "demo: listing it on the server"
"$ferry" ls -l -r -server "127.0.0.1:$port" -ca "$work/srv/ca.pem" -state "$work/client" tree

echo "demo: getting everything back into $work/back"
mkdir "$work/back"
"$ferry" get -q -r -server "127.0.0.1:$port" -ca "$work/srv/ca.pem" -state "$work/client" -to "$work/back" tree
"$ferry" get -q -server "127.0.0.1:$port" -ca "$work/srv/ca.pem" -state "$work/client" -to "$work/back" demo.bin
if cmp -s "$work/demo.bin" "$work/back/demo.bin" && diff -r "$work/tree" "$work/back/tree" &&
	[ "$(stat -c %a "$work/back/tree/bin/hello")" = 755 ] &&
	[ "$(stat -c %Y "$work/back/tree/etc/config/system")" = "$(stat -c %Y "$work/tree/etc/config/system")" ]; then
	echo "demo: OK: the downloaded file and tree are identical (content, modes, mtimes, the empty folder)"
else
	echo "demo: FAILED: what came back differs" >&2
	exit 1
fi
"$ferry" fsck -data "$work/srv"
echo "demo: server log:"
sed 's/^/  /' "$work/server.log"
