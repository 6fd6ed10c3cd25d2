#!/bin/sh
# bench/serial/resume.sh: the resume case of bench/serial/slowlink.sh
# alone, with its reference run: a 256 KiB upload by a client that has met
# the server, cut at half by a 3 s outage (-link-timeout 1s), then run
# again; the two runs' seconds against one uninterrupted upload.
#
# usage: bench/serial/resume.sh   (environment: BAUD=115200 RUNS=1)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BAUD=${BAUD:-115200}
RUNS=${RUNS:-1}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$TMP/ferry" . && CGO_ENABLED=0 go build -o "$TMP/linesim" ./cmd/linesim)
head -c 262144 /dev/urandom >"$TMP/f"
now() { date +%s.%N; }

send() { # [ferry send flags] -- [linesim flags]: seconds of one upload
	c=''
	while [ $# -gt 0 ] && [ "$1" != -- ]; do c="$c $1"; shift; done
	[ $# -gt 0 ] && shift
	t0=$(now)
	# shellcheck disable=SC2086 # flag lists
	"$TMP/linesim" -baud "$BAUD" -exit a "$@" -- \
		"$TMP/ferry" send -stdio -baud "$BAUD" -q -state "$TMP/st" -trust-new $c "$TMP/f" -- \
		sh -c 'printf "\r\nBusyBox v1.36.1 built-in shell (ash)\r\nroot@OpenWrt:~# ferry serve -stdio\r\n"; exec "$@"' sh \
		"$TMP/ferry" serve -stdio -baud "$BAUD" -data "$TMP/srv" 2>"$TMP/log" || true
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

known() { # a fresh server and a client that has met it
	rm -rf "$TMP/srv" "$TMP/st" && mkdir -p "$TMP/srv" "$TMP/st"
	"$TMP/linesim" -baud 0 -exit a -- "$TMP/ferry" ls -stdio -q -state "$TMP/st" -trust-new -- \
		"$TMP/ferry" serve -stdio -data "$TMP/srv" >/dev/null 2>&1
}

cut=$(awk -v b="$BAUD" 'BEGIN { printf "%.1fs", 131072 / (b / 10) }')
for _ in $(seq "$RUNS"); do
	known
	ref=$(send)
	known
	a=$(send -link-timeout 1s -- -pause-at "$cut" -pause 3s)
	b=$(send -link-timeout 1s)
	find "$TMP/srv/files" -type f -name f -exec cmp -s {} "$TMP/f" \; -print | grep -q . || echo "resume: stored copy differs" >&2
	at=$(grep -o 'resumed at [0-9]*' "$TMP/log" | head -1 || true)
	awk -v r="$ref" -v a="$a" -v b="$b" -v at="$at" 'BEGIN { printf "uninterrupted %.3f s; cut %.3f + resumed %.3f = %.3f s: %.3fx (%s)\n", r, a, b, a + b, (a + b) / r, at }'
done
