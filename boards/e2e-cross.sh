#!/bin/sh
# e2e-cross.sh: transfers between a native ferry and a cross-built one run
# under qemu-user, over TCP on 127.0.0.1, as a user would run them:
#
#   1. native server, cross client: a random file is uploaded twice (register,
#      then reconnect) and the stored copies are compared byte for byte; the
#      native client then reuses the state directory the cross client wrote;
#   2. cross server, native client: the same, then the server is stopped and
#      the native binary checks the tables it wrote (fsck must exit 0);
#   3. the native server reopens those tables, takes one more file, and the
#      cross binary checks the result.
#
# With a big-endian cross build (ath79) this proves that nothing on the wire
# or on disk depends on the host's byte order.
#
# Usage: boards/e2e-cross.sh NATIVE CROSS GOARCH
#   e.g. boards/e2e-cross.sh bin/ferry dist/ferry-ath79 mips
# Environment: SIZE of the test file in bytes (default 3 MiB + 4321).
set -eu
native=$(realpath "$1") cross=$(realpath "$2") arch=$3
size=${SIZE:-$((3 * 1048576 + 4321))}

case $arch in
arm) q=arm ;; arm64) q=aarch64 ;; mips) q=mips ;; mipsle) q=mipsel ;;
*) echo "e2e-cross: no qemu for GOARCH $arch" >&2; exit 1 ;;
esac
qemu=$(command -v "qemu-$q-static" || command -v "qemu-$q") || {
	echo "e2e-cross: qemu-$q-static not found: apt-get install qemu-user-static" >&2
	exit 1
}

work=$(mktemp -d)
server_pid=
cleanup() {
	stop_server
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { echo "e2e-cross: $*"; }
fail() {
	echo "e2e-cross: FAILED: $*" >&2
	for log in "$work"/*.log; do
		[ -f "$log" ] && { echo "--- $log" >&2; cat "$log" >&2; }
	done
	exit 1
}

# free_port: a TCP port nothing listens on, from the kernel.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME PORT CMD...: start a server on 127.0.0.1:PORT with data
# in $work/NAME, and wait until it listens. Clients keep their registration
# per server address, so a restarted server keeps its port.
start_server() {
	name=$1 port=$2
	shift 2
	"$@" serve -listen "127.0.0.1:$port" -data "$work/$name" 2>"$work/$name-server.log" &
	server_pid=$!
	i=0
	until grep -q "serving on" "$work/$name-server.log" 2>/dev/null; do
		kill -0 "$server_pid" 2>/dev/null || fail "server $* exited"
		i=$((i + 1))
		[ $i -lt 600 ] || fail "server $* did not start in 60s"
		sleep 0.1
	done
}

# stop_server: SIGTERM, as systemd or procd would stop it, and wait.
stop_server() {
	[ -n "$server_pid" ] || return 0
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# send SERVERDATA STATE FILE AS CMD...: upload FILE under the name AS.
send() {
	data=$1 state=$2 file=$3 as=$4
	shift 4
	"$@" send -q -server "127.0.0.1:$port" -ca "$work/$data/ca.pem" -name "e2e-$arch" \
		-state "$work/$state" -as "$as" "$file" >>"$work/client.log" 2>&1 ||
		fail "$* send $as to the $data server"
}

# same DATA AS: the stored copy of AS in DATA is identical to the original.
same() {
	stored=$(find "$work/$1/files" -name "$2" -type f)
	[ -n "$stored" ] || fail "no stored copy of $2 in $1"
	cmp "$work/orig.bin" "$stored" || fail "stored copy of $2 in $1 differs"
}

head -c "$size" /dev/urandom >"$work/orig.bin"
start=$(date +%s)

say "1. native server, $arch client under $(basename "$qemu")"
start_server native "$(free_port)" "$native"
send native cross-state "$work/orig.bin" a.bin "$qemu" "$cross"
send native cross-state "$work/orig.bin" b.bin "$qemu" "$cross"
send native cross-state "$work/orig.bin" c.bin "$native"
same native a.bin
same native b.bin
same native c.bin
stop_server

say "2. $arch server under $(basename "$qemu"), native client"
start_server cross "$(free_port)" "$qemu" "$cross"
send cross native-state "$work/orig.bin" a.bin "$native"
send cross native-state "$work/orig.bin" b.bin "$native"
same cross a.bin
same cross b.bin
stop_server
"$native" fsck -data "$work/cross" >>"$work/fsck.log" 2>&1 ||
	fail "native fsck of the tables the $arch server wrote"

say "3. native server on the $arch server's data, $arch fsck after"
start_server cross "$port" "$native"
send cross native-state "$work/orig.bin" c.bin "$native"
same cross c.bin
stop_server
"$qemu" "$cross" fsck -data "$work/cross" >>"$work/fsck.log" 2>&1 ||
	fail "$arch fsck of tables the native server appended to"

say "OK: $size-byte files identical in both directions, tables portable ($(($(date +%s) - start))s)"
