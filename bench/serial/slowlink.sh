#!/bin/sh
# bench/serial/slowlink.sh: ferry on a slow line (cmd/linesim, 115200 baud
# by default): compression on text against ZMODEM, compression's cost on
# random data, the efficiency of small uploads after a console banner, and
# a resume after an outage longer than -link-timeout; the table goes into
# docs/BENCHMARKS.md (section slowlink).
#
# usage: bench/serial/slowlink.sh [-n]   (-n: print only)
#        bench/serial/slowlink.sh -ab OTHER   (OTHER: another ferry binary)
# -ab compares two builds on the small uploads: the clean 128 KiB and the
# 256 KiB at BER 1e-5 by a known client, RUNS of each build taking turns,
# and prints the medians; the doc is not touched.
# environment: BAUD=115200 RUNS=1 ZTIMEOUT=300
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BAUD=${BAUD:-115200}
RUNS=${RUNS:-1}
ZTIMEOUT=${ZTIMEOUT:-300}
WRITE=1 OTHER=
[ "${1:-}" = "-n" ] && WRITE=0
if [ "${1:-}" = "-ab" ]; then
	OTHER=$(cd "$(dirname "${2:?-ab needs a ferry binary}")" && pwd)/$(basename "$2")
	[ -x "$OTHER" ] || { echo "slowlink: $2 is not an executable" >&2; exit 2; }
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

echo "building ferry and linesim" >&2
REV=$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown) # what is built
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$TMP/ferry" . && CGO_ENABLED=0 go build -o "$TMP/linesim" ./cmd/linesim)
command -v sz >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && apt-get install -y lrzsz >/dev/null 2>&1; } || true

# 1 MiB of text logs: the Go tree's sources, as people pull text off a device
find "$(go env GOROOT)/src" -name '*.go' | sort | head -2000 | xargs cat | head -c 1048576 >"$TMP/text.log"
# the other text the issue names, and the machine's own logs (what is there)
find /usr/share/doc -type f ! -name '*.gz' | sort | xargs cat 2>/dev/null | head -c 1048576 >"$TMP/doc.txt" || true
zcat -f /var/log/dpkg.log* /var/log/apt/history.log* /var/log/apt/term.log* /var/log/alternatives.log* 2>/dev/null | head -c 1048576 >"$TMP/system.log" || true
head -c 262144 /dev/urandom >"$TMP/random256"
head -c 131072 /dev/urandom >"$TMP/random128"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print ""; else print a[int((NR + 1) / 2)] }'; }
size() { wc -c <"$1" | tr -d ' '; }
# rate FILE SECONDS: file bytes per second over the line's bytes per second
times_line() { awk -v n="$(size "$1")" -v t="$2" -v b="$BAUD" 'BEGIN { printf "%.2fx", n / t / (b / 10) }'; }
# bound FILE: deflate's own limit, the file over its gzip -9 size: what
# the line could carry at best with this codec, every overhead left out
bound() { awk -v n="$(size "$1")" -v z="$(gzip -9c "$1" | wc -c)" 'BEGIN { printf "%.2fx", n / z }'; }
eff() { awk -v n="$(size "$1")" -v t="$2" -v b="$BAUD" 'BEGIN { printf "%.1f%%", 100 * n / (t * b / 10) }'; }

# ferry_send FILE DATA STATE [ferry send flags] -- [linesim flags]: one
# upload over linesim; prints the seconds; exit status the client's.
ferry_send() {
	f=$1 data=$2 state=$3
	shift 3
	cflags='' lflags=''
	while [ $# -gt 0 ] && [ "$1" != -- ]; do cflags="$cflags $1"; shift; done
	[ $# -gt 0 ] && shift
	lflags="$*"
	t0=$(now)
	rc=0
	# shellcheck disable=SC2086 # flag lists
	"$TMP/linesim" -baud "$BAUD" -exit a $lflags -- \
		"$FERRY" send -stdio -baud "$BAUD" -q -state "$state" -trust-new $cflags "$f" -- \
		sh -c 'printf "\r\nBusyBox v1.36.1 built-in shell (ash)\r\nroot@OpenWrt:~# ferry serve -stdio\r\n"; exec "$@"' sh \
		"$FERRY" serve -stdio -baud "$BAUD" -data "$data" 2>"$TMP/log" || rc=$?
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
	return $rc
}

# fresh: a new server data folder and client state
fresh() { rm -rf "$TMP/srv" "$TMP/st"; mkdir -p "$TMP/srv" "$TMP/st"; }

# stored FILE: the stored copy is identical
stored() { find "$TMP/srv/files" -type f -name "$(basename "$1")" -exec cmp -s {} "$1" \; -print | grep -q .; }

# known: the client has met the server (registered, key pinned, chain
# kept: what every command after the first finds), over an unpaced line.
known() {
	"$TMP/linesim" -baud 0 -exit a -- "$FERRY" ls -stdio -q -state "$TMP/st" -trust-new -- \
		"$FERRY" serve -stdio -data "$TMP/srv" >/dev/null 2>&1 || echo "known: ferry ls failed" >&2
}

run_case() { # NAME FILE [flags] -- [linesim flags]: median seconds of RUNS, first contact each
	run_cases "" "$@"
}

run_known() { # as run_case, by a client that has met the server
	run_cases known "$@"
}

run_cases() { # PREPARE NAME FILE [flags] -- [linesim flags]
	prep=$1 name=$2 f=$3
	shift 3
	for _ in $(seq "$RUNS"); do
		fresh
		$prep
		s=$(ferry_send "$f" "$TMP/srv" "$TMP/st" "$@") || { echo "$name: ferry failed" >&2; tail -3 "$TMP/log" >&2; }
		stored "$f" || echo "$name: stored copy differs" >&2
		echo "$s"
	done | median
}

zmodem() { # FILE: seconds of an sz/rz transfer
	d="$TMP/zm" && rm -rf "$d" && mkdir -p "$d"
	t0=$(now)
	timeout "$ZTIMEOUT" "$TMP/linesim" -baud "$BAUD" -grace 5s -- sz -b -q "$1" -- sh -c "cd $d && rz -b -q" >/dev/null 2>&1 || echo "zmodem failed" >&2
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

FERRY=$TMP/ferry # the build under test; -ab takes turns with OTHER

if [ -n "$OTHER" ]; then
	# ab NAME FILE [flags] -- [linesim flags]: RUNS of each build taking
	# turns (run_known, one run at a time); prints the two medians
	ab() {
		name=$1 f=$2
		shift 2
		runs=$RUNS RUNS=1
		for _ in $(seq "$runs"); do
			for FERRY in "$TMP/ferry" "$OTHER"; do
				echo "$FERRY $(run_known "$name ($FERRY)" "$f" "$@")"
			done
		done >"$TMP/ab"
		RUNS=$runs
		this=$(awk -v b="$TMP/ferry" '$1 == b { print $2 }' "$TMP/ab" | median)
		other=$(awk -v b="$OTHER" '$1 == b { print $2 }' "$TMP/ab" | median)
		echo "| $name | $this ($(eff "$f" "$this")) | $other ($(eff "$f" "$other")) | $(awk -v a="$this" -v b="$other" 'BEGIN { printf "%+.1f ms", 1000 * (a - b) }') |"
	}
	echo "| case (RUNS=$RUNS, medians) | this tree's build | $OTHER | difference |"
	echo "|---|---|---|---|"
	ab "128 KiB random, clean" "$TMP/random128"
	ab "256 KiB random, BER 1e-5" "$TMP/random256" -- -ber 1e-5
	exit 0
fi

echo "1 MiB of text" >&2
t_text=$(run_case text "$TMP/text.log")
t_text_raw=$(run_case text-raw "$TMP/text.log" -no-compress)
t_text_z=$(zmodem "$TMP/text.log")
t_doc=$(run_case doc "$TMP/doc.txt")
t_sys=$(run_case system "$TMP/system.log")
echo "256 KiB random, with and without compression" >&2
t_rnd=$(run_known random "$TMP/random256")
t_rnd_raw=$(run_known random-raw "$TMP/random256" -no-compress)
echo "small uploads after a banner, clean and BER 1e-5" >&2
t_128=$(run_known 128 "$TMP/random128")
t_128_first=$(run_case 128-first "$TMP/random128")
t_256_first=$(run_case 256-first "$TMP/random256")
t_128_ber=$(run_known 128-ber "$TMP/random128" -- -ber 1e-5)
t_256_ber=$(run_known 256-ber "$TMP/random256" -- -ber 1e-5)

echo "resume: a 256 KiB upload cut at half by an outage longer than -link-timeout" >&2
fresh
known
cut=$(awk -v b="$BAUD" 'BEGIN { printf "%.1fs", 131072 / (b / 10) }')
t_r1=$(ferry_send "$TMP/random256" "$TMP/srv" "$TMP/st" -link-timeout 1s -- -pause-at "$cut" -pause 3s || true)
t_r2=$(ferry_send "$TMP/random256" "$TMP/srv" "$TMP/st" -link-timeout 1s || echo fail)
stored "$TMP/random256" || echo "resume: stored copy differs" >&2
resumed=$(grep -o 'resumed at [0-9]*' "$TMP/log" | head -1 || true)
t_r=$(awk -v a="$t_r1" -v b="$t_r2" 'BEGIN { printf "%.3f", a + b }')

table="$TMP/table"
{
	echo "### Slow links: compression, overhead, resume (\`make bench-slowlink\`)"
	echo
	echo "$(date -u +%Y-%m-%d), ferry $REV, $BAUD baud over cmd/linesim with a console banner before the session on both sides, RUNS=$RUNS, load $LOAD. Effective rate: file bytes over wall time (process start, handshake and teardown included), as a multiple of the line's $((BAUD / 10)) bytes/s. The uploads of random data are by a client that has met the server before (registered, its key pinned and its chain kept: every command after the first); \"first contact\" includes the registration, the pinning (-trust-new) and the server's first start, which makes its key and certificate. The text cases are first contacts."
	echo
	echo "| case | seconds | result |"
	echo "|---|---|---|"
	echo "| 1 MiB of Go source, ferry (compression on, the default on a line) | $t_text | $(times_line "$TMP/text.log" "$t_text") the line rate |"
	echo "| the same, ferry -no-compress | $t_text_raw | $(times_line "$TMP/text.log" "$t_text_raw") |"
	echo "| the same, ZMODEM (sz -b / rz) | $t_text_z | $(times_line "$TMP/text.log" "$t_text_z") |"
	echo "| the same, deflate's bound (file over its gzip -9 size) | | $(bound "$TMP/text.log") |"
	echo "| $(size "$TMP/doc.txt") bytes of /usr/share/doc's text, ferry | $t_doc | $(times_line "$TMP/doc.txt" "$t_doc") (deflate's bound $(bound "$TMP/doc.txt")) |"
	echo "| $(size "$TMP/system.log") bytes of this machine's logs (dpkg, apt), ferry | $t_sys | $(times_line "$TMP/system.log" "$t_sys") (deflate's bound $(bound "$TMP/system.log")) |"
	echo "| 256 KiB random, compression on | $t_rnd | $(eff "$TMP/random256" "$t_rnd") of line rate |"
	echo "| 256 KiB random, -no-compress | $t_rnd_raw | $(eff "$TMP/random256" "$t_rnd_raw"); on/off $(awk -v a="$t_rnd" -v b="$t_rnd_raw" 'BEGIN { printf "%+.2f%%", 100 * (a - b) / b }') time |"
	echo "| 128 KiB random, clean | $t_128 | $(eff "$TMP/random128" "$t_128") |"
	echo "| 128 KiB random, clean, first contact | $t_128_first | $(eff "$TMP/random128" "$t_128_first") |"
	echo "| 256 KiB random, clean, first contact | $t_256_first | $(eff "$TMP/random256" "$t_256_first") |"
	echo "| 128 KiB random, BER 1e-5 | $t_128_ber | $(eff "$TMP/random128" "$t_128_ber") (with FEC the bound at BER 1e-5 is 99.7%, ARQ alone 93.5%) |"
	echo "| 256 KiB random, clean | $t_rnd | $(eff "$TMP/random256" "$t_rnd") |"
	echo "| 256 KiB random, BER 1e-5 | $t_256_ber | $(eff "$TMP/random256" "$t_256_ber") (bounds 99.7%, 93.5%) |"
	echo "| 256 KiB cut at half by a 3 s outage (-link-timeout 1s), then run again | $t_r1 + $t_r2 = $t_r | $(awk -v a="$t_r" -v b="$t_rnd" 'BEGIN { printf "%.2fx", a / b }') one uninterrupted run; second run $resumed bytes |"
} >"$table"
cat "$table"
[ "$WRITE" = 1 ] || exit 0
doc="$ROOT/docs/BENCHMARKS.md"
grep -q '<!-- slowlink:begin -->' "$doc" || printf '\n<!-- slowlink:begin -->\n<!-- slowlink:end -->\n' >>"$doc"
awk -v table="$table" '
	/<!-- slowlink:begin -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
	/<!-- slowlink:end -->/ { skip = 0 }
	!skip { print }
' "$doc" >"$doc.new" && mv "$doc.new" "$doc"
