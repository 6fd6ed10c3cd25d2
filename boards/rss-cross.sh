#!/bin/bash
# rss-cross.sh: peak resident memory of a cross-built ferry on the device,
# measured under qemu-user. One upload of a random file (default 100 MiB)
# over TCP on 127.0.0.1: first the cross client against a native server,
# then the cross server with a native client.
#
# qemu-user's own figure (VmHWM of the qemu process) counts the emulator
# too: its code, its translation cache and its heap, about 20 MiB. The
# guest's memory is what a device would see, and qemu-user places it apart:
# a 32-bit guest runs with guest_base 0, so its pages are exactly the
# qemu process's mappings below 4 GiB, and qemu's own lie far above. This
# script samples /proc/PID/smaps of the qemu process every 20 ms, sums Rss
# over the mappings below 4 GiB, and reports the largest sum: the guest's
# peak RSS. It checks that the guest binary is mapped there before trusting
# the figure, and fails if the guest's peak is over RSS_BUDGET.
#
# Usage: boards/rss-cross.sh NATIVE CROSS GOARCH
#   e.g. boards/rss-cross.sh bin/ferry dist/ferry-ramips-mt7621 mipsle
# Environment: SIZE_MIB (default 100), RSS_BUDGET_KIB (default 16384).
set -euo pipefail
native=$(realpath "$1") cross=$(realpath "$2") arch=$3
size_mib=${SIZE_MIB:-100}
# SEND_FLAGS: more flags for both uploads (-compress: compression on, as
# on a serial line, with a compressible file: TEXT=1, the Go tree's sources)
send_flags=${SEND_FLAGS:-}
budget=${RSS_BUDGET_KIB:-16384}

case $arch in
arm) q=arm ;; mips) q=mips ;; mipsle) q=mipsel ;;
*) echo "rss-cross: GOARCH $arch: only 32-bit guests (arm, mips, mipsle) have guest_base 0" >&2; exit 1 ;;
esac
qemu=$(command -v "qemu-$q-static") || {
	echo "rss-cross: qemu-$q-static not found: apt-get install qemu-user-static" >&2
	exit 1
}

work=$(mktemp -d)
server_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; } || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "rss-cross: FAILED: $*" >&2
	for log in "$work"/*.log; do
		[ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
	done
	exit 1
}

# guest_rss_kib PID: Rss summed over the mappings of PID below 4 GiB, or
# nothing once the process is gone.
guest_rss_kib() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); low = length(r[2]) <= 8 || r[2] == "100000000" }
	     /^Rss:/ && low { kib += $2 }
	     END { if (NR) print kib + 0 }' "/proc/$1/smaps" 2>/dev/null || true
}

# guest_mapped PID: the cross binary is mapped below 4 GiB (guest_base 0).
guest_mapped() {
	awk -v bin="$cross" '$6 == bin { split($1, r, "-"); if (length(r[2]) <= 8) found = 1 } END { exit !found }' "/proc/$1/maps"
}

# watch PID OUT: sample until PID exits; writes "guest_peak_kib qemu_hwm_kib".
watch() {
	local pid=$1 peak=0 hwm=0 kib h checked=''
	while kill -0 "$pid" 2>/dev/null; do
		if [ -z "$checked" ] && [ -r "/proc/$pid/maps" ] && grep -q "$cross" "/proc/$pid/maps" 2>/dev/null; then
			guest_mapped "$pid" || { echo "not-low" >"$2"; return; }
			checked=1
		fi
		kib=$(guest_rss_kib "$pid")
		h=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		[ -z "$kib" ] || [ "$kib" -le "$peak" ] || peak=$kib
		[ -z "$h" ] || hwm=$h
		sleep 0.02
	done
	echo "$peak $hwm" >"$2"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server LOG CMD...: start "CMD serve" on a fresh port, wait until it listens.
start_server() {
	local log=$1
	shift
	port=$(free_port)
	"$@" serve -listen "127.0.0.1:$port" -data "$work/srv-$log" 2>"$work/$log.log" &
	server_pid=$!
	for _ in $(seq 600); do
		grep -q "serving on" "$work/$log.log" 2>/dev/null && return
		kill -0 "$server_pid" 2>/dev/null || fail "server $* exited"
		sleep 0.1
	done
	fail "server $* did not start in 60s"
}

stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=''
}

send() { # LOG CMD...: one upload of the test file to the running server
	local log=$1
	shift
	# shellcheck disable=SC2086 # a flag list
	"$@" send -q $send_flags -server "127.0.0.1:$port" -ca "$work/srv-$log/ca.pem" \
		-state "$work/state-$log" "$work/file.bin" >>"$work/$log-client.log" 2>&1
}

if [ -n "${TEXT:-}" ]; then
	find "$(go env GOROOT)/src" -name '*.go' -print0 | sort -z | xargs -0 cat 2>/dev/null | head -c "$((size_mib * 1048576))" >"$work/file.bin" || true
else
	head -c "$((size_mib * 1048576))" /dev/urandom >"$work/file.bin"
fi
printf 'rss-cross: %s (%s) under %s, %d MiB upload over TCP\n' "$(basename "$cross")" "$arch" "$(basename "$qemu")" "$size_mib"
status=0
report() { # WHAT RESULTFILE
	local guest hwm
	read -r guest hwm <"$2"
	[ "$guest" != not-low ] || fail "$1: the guest is not mapped below 4 GiB; this qemu places it elsewhere"
	[ "$guest" -gt 0 ] || fail "$1: no sample taken"
	printf '  %-34s guest peak RSS %6.1f MiB   (qemu process, emulator included: %5.1f MiB)\n' \
		"$1" "$(awk -v k="$guest" 'BEGIN{print k/1024}')" "$(awk -v k="$hwm" 'BEGIN{print k/1024}')"
	[ "$guest" -le "$budget" ] || { echo "rss-cross: $1: over the budget of $((budget / 1024)) MiB" >&2; status=1; }
}

# 1. the cross client sends to a native server.
start_server native "$native"
# shellcheck disable=SC2086 # a flag list
"$qemu" "$cross" send -q $send_flags -server "127.0.0.1:$port" -ca "$work/srv-native/ca.pem" \
	-state "$work/state-native" "$work/file.bin" >"$work/cross-client.log" 2>&1 &
client=$!
watch "$client" "$work/client.rss"
wait "$client" || fail "cross client upload"
cmp -s "$work/file.bin" "$(find "$work/srv-native/files" -type f -name file.bin)" || fail "stored copy differs"
stop_server
report "client ($arch) -> native server" "$work/client.rss"

# 2. a native client sends to the cross server; sampled while it serves.
start_server cross "$qemu" "$cross"
sleep 0.5
idle=$(guest_rss_kib "$server_pid")
watch "$server_pid" "$work/server.rss" &
watcher=$!
send cross "$native" || fail "upload to the cross server"
cmp -s "$work/file.bin" "$(find "$work/srv-cross/files" -type f -name file.bin)" || fail "stored copy differs"
stop_server
wait "$watcher"
report "native client -> server ($arch)" "$work/server.rss"
printf '  %-34s guest RSS      %6.1f MiB\n' "server ($arch), idle before it" "$(awk -v k="$idle" 'BEGIN{print k/1024}')"

exit $status
