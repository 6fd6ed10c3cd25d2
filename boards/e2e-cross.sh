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
#      cross binary checks the result;
#   4. over a serial line, two pseudo-terminals joined by cmd/linesim (115200
#      baud, a bit error rate of 1e-5): native server and cross client, then
#      the reverse, a smaller file each way (the line carries 11 KB/s).
#
# With a big-endian cross build (ath79) this proves that nothing on the wire
# or on disk depends on the host's byte order.
#
# Usage: boards/e2e-cross.sh NATIVE CROSS GOARCH
#   e.g. boards/e2e-cross.sh bin/ferry dist/ferry-ath79 mips
# Environment: SIZE of the test file in bytes (default 3 MiB + 4321),
# SERIAL_SIZE over the serial line (default 40000), GO (default go).
set -eu
native=$(realpath "$1") cross=$(realpath "$2") arch=$3
size=${SIZE:-$((3 * 1048576 + 4321))}
serial_size=${SERIAL_SIZE:-40000}
GO=${GO:-go}

case $arch in
arm) q=arm ;; arm64) q=aarch64 ;; mips) q=mips ;; mipsle) q=mipsel ;;
*) echo "e2e-cross: no qemu for GOARCH $arch" >&2; exit 1 ;;
esac
qemu=$(command -v "qemu-$q-static" || command -v "qemu-$q") || {
	echo "e2e-cross: qemu-$q-static not found: apt-get install qemu-user-static" >&2
	exit 1
}

work=$(mktemp -d)
server_pid='' line_pid=''
cleanup() {
	stop_server
	[ -z "$line_pid" ] || { kill "$line_pid" 2>/dev/null; wait "$line_pid" 2>/dev/null; } || true
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

# free_port: a TCP port nothing listens on, from the kernel; without python3,
# a pseudo-random one.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((($$ * 7919 + $(date +%s%N | cut -c10-18)) % 30000 + 20000))
}

# start_server NAME PORT CMD...: start a server on 127.0.0.1:PORT with data
# in $work/NAME, and wait until it listens. Clients keep their registration
# per server address, so a restarted server keeps its port. With $tty set
# the server serves that serial line instead.
start_server() {
	name=$1 port=$2
	shift 2
	if [ -n "$tty" ]; then
		set -- "$@" serve -serial "$tty" -baud 115200
	else
		set -- "$@" serve -listen "127.0.0.1:$port"
	fi
	"$@" -data "$work/$name" 2>"$work/$name-server.log" &
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

# send SERVERDATA STATE FILE AS CMD...: upload FILE under the name AS, to
# 127.0.0.1:$port, or over the serial line $peer when $tty is set.
send() {
	data=$1 state=$2 file=$3 as=$4
	shift 4
	if [ -n "$tty" ]; then
		set -- "$@" send -serial "$peer" -baud 115200
	else
		set -- "$@" send -server "127.0.0.1:$port"
	fi
	"$@" -q -ca "$work/$data/ca.pem" -name "e2e-$arch" \
		-state "$work/$state" -as "$as" "$file" >>"$work/client.log" 2>&1 ||
		fail "$* send $as to the $data server"
}

# same DATA AS [ORIG]: the stored copy of AS in DATA is identical to ORIG
# (default orig.bin).
same() {
	stored=$(find "$work/$1/files" -name "$2" -type f)
	[ -n "$stored" ] || fail "no stored copy of $2 in $1"
	cmp "$work/${3:-orig.bin}" "$stored" || fail "stored copy of $2 in $1 differs"
}

# open_line: two pseudo-terminals joined by a simulated line; sets $tty for
# the server and $peer for the client.
open_line() {
	(cd "$(dirname "$0")/.." && CGO_ENABLED=0 "$GO" build -o "$work/linesim" ./cmd/linesim)
	"$work/linesim" -pty -baud 115200 -ber 1e-5 >"$work/ptys" 2>"$work/linesim.log" &
	line_pid=$!
	i=0
	until [ -s "$work/ptys" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "linesim -pty printed no pseudo-terminals"
		sleep 0.1
	done
	read -r tty peer <"$work/ptys"
}

head -c "$size" /dev/urandom >"$work/orig.bin"
start=$(date +%s)
tty=

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

say "4. serial line: native server, $arch client; then $arch server, native client"
head -c "$serial_size" "$work/orig.bin" >"$work/small.bin"
open_line
start_server serial-native - "$native"
send serial-native serial-cross-state "$work/small.bin" s.bin "$qemu" "$cross"
same serial-native s.bin small.bin
stop_server
start_server serial-cross - "$qemu" "$cross"
send serial-cross serial-native-state "$work/small.bin" s.bin "$native"
same serial-cross s.bin small.bin
stop_server

say "OK: files identical in both directions over TCP ($size bytes) and serial ($serial_size bytes), tables portable ($(($(date +%s) - start))s)"
