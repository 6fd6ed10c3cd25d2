#!/usr/bin/env bash
# demo.sh: a ferry server and client on loopback; an 8 MiB file is sent,
# and the stored copy is compared byte for byte with the original.
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
"$ferry" fsck -data "$work/srv"
echo "demo: server log:"
sed 's/^/  /' "$work/server.log"
