#!/usr/bin/env bash
# bench/ops/run.sh: the speed and memory figures of issue 12 (ferry get,
# send -r, get -r) against OpenSSH scp, rsync over ssh and a plain socat
# copy, measured in the same run; each part rewrites its own section of
# docs/BENCHMARKS.md.
#
# Parts, in PARTS (default "get tree serial"):
#   get     ferry get of a SIZE_MIB (512) MiB file over loopback TCP, tmpfs to
#           tmpfs, against ferry send of the same file, scp downloading it
#           (aes128-gcm, -O and the default sftp protocol) and a plain
#           unencrypted copy (socat); the CPU time of both ferry ends, and
#           strace -c counts of one get and one send; then the peak RSS of
#           both ends of get at 10 MiB, 100 MiB and 1 GiB (a fresh server
#           for each get, so its high-water mark is that get's alone).
#   tree    10,000 files of 1 KiB in 110 nested folders: ferry send -r then
#           get -r, against rsync -a over ssh and scp -r (-O and sftp), all
#           with aes128-gcm, both ways; every copy checked with diff -r.
#   serial  BAUD (115200) over the pseudo-terminals of cmd/linesim -pty
#           (ferry serve -serial A, the client on -serial B): send -r and
#           get -r of a folder of 100 files of 4 KiB, send and get of 256 KiB.
#
# usage: bench/ops/run.sh [-n]    -n: print the sections, do not touch the doc
# environment: RUNS (3) runs per figure, the median reported; PARTS;
#   SIZE_MIB (512); BAUD (115200); STRACE=0 skips the strace counts;
#   KEEP=1 keeps the temporary directory.
# Every result is compared with its original; the script exits 1 if one
# differs (after writing the doc). Needs root: apt-get for missing tools
# (openssh-server, openssh-client, rsync, socat, time), a private sshd and
# a temporary login user, as bench/perf/run.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-3}
PARTS=${PARTS:-"get tree serial"}
SIZE_MIB=${SIZE_MIB:-512}
BAUD=${BAUD:-115200}
STRACE=${STRACE:-1}
WRITE=1
[ "${1:-}" = -n ] && WRITE=0
DOC=$ROOT/docs/BENCHMARKS.md
FERRY=$ROOT/bin/ferry
AES=aes128-gcm@openssh.com
HZ=$(getconf CLK_TCK)

log() { printf 'ops: %s\n' "$*" >&2; }
want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# --- tools -------------------------------------------------------------------
need_pkgs=()
if want get || want tree; then
	[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
	command -v scp >/dev/null || need_pkgs+=(openssh-client)
	command -v rsync >/dev/null || need_pkgs+=(rsync)
	command -v socat >/dev/null || need_pkgs+=(socat)
fi
[ -x /usr/bin/time ] || need_pkgs+=(time)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	log "installing ${need_pkgs[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

log "building ferry and linesim"
make -s build
# The commit measured; "-dirty" only for changes outside the doc this script writes.
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain -- . ':(exclude)docs/BENCHMARKS.md' 2>/dev/null)" ] || COMMIT=$COMMIT-dirty
TMP=$(mktemp -d /dev/shm/ferry-ops.XXXXXX) # tmpfs: the disk does not decide
PIDS=()
SSH_USER_ADDED=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$SSH_USER_ADDED" ] || userdel "$SSH_USER_ADDED" 2>/dev/null || true
	[ "${KEEP:-}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT
go build -o "$TMP/linesim" ./cmd/linesim
mkdir -p "$TMP/in" "$TMP/out" "$TMP/dst"
chmod 711 "$TMP"        # mktemp made it 0700; the ssh login user reads in/ and writes dst/
chmod 755 "$TMP/in"

# --- helpers -----------------------------------------------------------------
# freeport prints a TCP port nobody listens on.
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
# median of numbers on stdin (empty if none)
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
calc() { awk "BEGIN {printf \"%${2:-.3f}\", $1}"; } # expression [format]
mbps() { calc "$1 * 1048576 / $2 / 1000000" .1f; }  # MiB seconds -> MB/s
mib() { calc "$1 / 1024" .1f; }                     # KiB -> MiB
ratio() { calc "$1 / $2" .2f; }
goal() { awk -v v="$1" -v g="$2" 'BEGIN {print (v >= g ? "met" : "**missed**")}'; } # value at-least
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }                               # user + system clock ticks
uticks() { awk '{print $14 " " $15}' "/proc/$1/stat"; }
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; } # peak RSS of a live process
load() { cut -d' ' -f1-3 /proc/loadavg; }

# timed CMD...: runs CMD (stdout discarded); prints "wall user sys rss_kib".
# On failure it shows CMD's stderr and returns its status.
timed() {
	local t0 t1 rc=0
	t0=$(now)
	/usr/bin/time -f '%U %S %M' -o "$TMP/time.out" "$@" >/dev/null 2>"$TMP/cmd.err" || rc=$?
	t1=$(now)
	if [ "$rc" != 0 ]; then
		log "failed (exit $rc): $*"
		sed 's/^/  /' "$TMP/cmd.err" >&2
		return "$rc"
	fi
	echo "$(calc "$t1 - $t0") $(tail -n 1 "$TMP/time.out")"
}

# same KIND A B: cmp (files) or diff -r (trees); prints yes or no, and notes
# a difference in $TMP/bad (same runs in command substitutions: no variable).
same() {
	local ok=0
	case $1 in
	file) cmp -s "$2" "$3" || ok=1 ;;
	tree) diff -r "$2" "$3" >/dev/null 2>&1 || ok=1 ;;
	esac
	if [ "$ok" != 0 ]; then
		log "DIFFERENT: $2 and $3"
		echo "$2 $3" >>"$TMP/bad"
		echo no
	else
		echo yes
	fi
}

# med FILE COLUMN: the median of a column of a results file
med() { awk -v c="$2" '{print $c}' "$1" | median; }
# runs FILE COLUMN: every run's value of a column, in run order
runs() { awk -v c="$2" '{printf "%s%s", (NR > 1 ? ", " : ""), $c}' "$1"; }
# count_yes FILE COLUMN: "k/n" of rows whose column is yes
count_yes() { awk -v c="$2" '$c == "yes" {k++} END {printf "%d/%d", k, NR}' "$1"; }
# rotate N R: the numbers 0..N-1 starting at R mod N, so that tools take turns first
rotate() { local i; for ((i = 0; i < $1; i++)); do echo $(((i + $2) % $1)); done; }

# write_section NAME FILE: replaces the doc's text between <!-- NAME:begin -->
# and <!-- NAME:end --> with FILE (appended at the end of the doc if absent).
write_section() {
	local b="<!-- $1:begin -->" e="<!-- $1:end -->"
	cat "$2"
	[ "$WRITE" = 1 ] || return 0
	grep -qxF "$b" "$DOC" || printf '\n%s\n%s\n' "$b" "$e" >>"$DOC"
	awk -v b="$b" -v e="$e" -v f="$2" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip { print }' "$DOC" >"$TMP/doc"
	cat "$TMP/doc" >"$DOC"
	log "wrote the $1 section of $DOC"
}

# machine: the line every section starts with
machine() {
	echo "$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr), $(go version | awk '{print $3}'), ferry $COMMIT"
}

# --- ferry server over TCP ---------------------------------------------------
# start_server DATA: a ferry server on loopback with its data in DATA; sets
# SRV_PID, SRV_ADDR and FC, the flags of a client of it (state in DATA.cl).
# A restart keeps the address: the client's registration is per server address.
start_server() {
	local data=$1
	[ -f "$data.addr" ] || echo "127.0.0.1:$(freeport)" >"$data.addr"
	SRV_ADDR=$(cat "$data.addr")
	"$FERRY" serve -listen "$SRV_ADDR" -data "$data" 2>>"$data.log" &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	FC=(-server "$SRV_ADDR" -ca "$data/ca.pem" -state "$data.cl" -q)
	for _ in $(seq 200); do
		[ -f "$data/ca.pem" ] && grep -q "serving on $SRV_ADDR" "$data.log" && return
		sleep 0.05
	done
	log "ferry server did not start"
	cat "$data.log" >&2
	exit 1
}
stop_server() { kill "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; }
# ferry_timed CMD...: timed, for a client of the server SRV_PID; prints
# "wall user sys rss_kib server_user_s server_sys_s"
ferry_timed() {
	local s0 s1 r
	s0=$(uticks "$SRV_PID")
	r=$(timed "$@")
	s1=$(uticks "$SRV_PID")
	echo "$r $(echo "$s0 $s1" | awk -v hz="$HZ" '{printf "%.2f %.2f", ($3 - $1) / hz, ($4 - $2) / hz}')"
}
# stored DATA PATH: where the server keeps a client's file or folder
stored() { find "$1/files" -mindepth 2 -maxdepth 2 -name "$2" | head -n 1; }

# --- private sshd (as in bench/perf/run.sh) ----------------------------------
start_sshd() {
	local sshd=$TMP/sshd
	mkdir -p "$sshd" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$sshd/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$sshd/client_key"
	cp "$sshd/client_key.pub" "$sshd/authorized_keys"
	chmod 644 "$sshd/authorized_keys"
	SSH_PORT=$(freeport)
	# A temporary user with /bin/sh: a root login would run root's ~/.bashrc
	# before every scp and rsync (bench/perf/run.sh says why). Removed on exit.
	SSH_USER=ferryops$$
	useradd -M -p '*' -d "$TMP/dst" -s /bin/sh "$SSH_USER"
	SSH_USER_ADDED=$SSH_USER
	chown "$SSH_USER" "$TMP/dst"
	cat >"$sshd/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $sshd/host_key
PidFile $sshd/sshd.pid
AuthorizedKeysFile $sshd/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
StrictModes no
Ciphers $AES
Compression no
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
	/usr/sbin/sshd -f "$sshd/sshd_config" -D -e 2>"$sshd/log" &
	PIDS+=($!)
	SSH_OPTS=(-F /dev/null -i "$sshd/client_key" -o UserKnownHostsFile="$sshd/known_hosts"
		-o StrictHostKeyChecking=no -o BatchMode=yes -o Compression=no -o LogLevel=ERROR -c "$AES")
	SSH_AT=$SSH_USER@127.0.0.1
	RSH="ssh ${SSH_OPTS[*]} -p $SSH_PORT" # rsync -e; no option holds a space
	for _ in $(seq 50); do
		ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" "$SSH_AT" true 2>/dev/null && break
		sleep 0.1
	done
	: >"$TMP/t.ssh"
	for _ in $(seq "$RUNS"); do timed ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" "$SSH_AT" true >>"$TMP/t.ssh"; done
	SSH_SETUP=$(med "$TMP/t.ssh" 1) # the fixed cost of every scp and rsync
}
if want get || want tree; then start_sshd; fi

# --- part get: one big file --------------------------------------------------
# get_one TOOL: one download (or upload for ferry-send) of the big file;
# prints "wall user sys rss_kib server_user_s server_sys_s identical".
get_one() {
	local f=$TMP/in/big.bin out=$TMP/out/big.bin r s0 s1 l same_ srv="- -" port
	rm -f "$out"
	case $1 in
	ferry-get)
		r=$(ferry_timed "$FERRY" get "${FC[@]}" -o "$out" big.bin)
		same_=$(same file "$f" "$out")
		;;
	ferry-send)
		r=$(ferry_timed "$FERRY" send "${FC[@]}" -as up.bin "$f")
		same_=$(same file "$f" "$(stored "$TMP/get-srv" up.bin)")
		"$FERRY" rm "${FC[@]}" up.bin >/dev/null # not timed: a replaced file's pages are freed in rename
		;;
	scp-O | scp-sftp)
		l=()
		[ "$1" = scp-O ] && l=(-O)
		r=$(timed scp "${l[@]}" -q "${SSH_OPTS[@]}" -P "$SSH_PORT" "$SSH_AT:$f" "$out")
		same_=$(same file "$f" "$out")
		;;
	socat | socat-b)
		port=$(freeport)
		l=()
		[ "$1" = socat-b ] && l=(-b 262144)
		socat "${l[@]}" -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "OPEN:$out,creat" &
		PIDS+=($!)
		for _ in $(seq 100); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.02; done
		s0=$(now)
		socat -b 262144 -u "$f" "TCP:127.0.0.1:$port"
		wait "${PIDS[-1]}"
		s1=$(now)
		r="$(calc "$s1 - $s0") - - -"
		same_=$(same file "$f" "$out")
		;;
	esac
	case $1 in ferry-*) srv= ;; esac
	echo "$r $srv $same_" | awk '{$1 = $1; print}'
	rm -f "$out"
}

# straced NAME CMD...: runs the ferry client CMD under strace -f -c and
# attaches strace -f -c to the server meanwhile: $TMP/strace.{cl,srv}.NAME.
straced() {
	local name=$1 tr
	shift
	strace -f -c -o "$TMP/strace.srv.$name" -p "$SRV_PID" 2>/dev/null &
	tr=$!
	sleep 0.5 # attached
	strace -f -c -o "$TMP/strace.cl.$name" "$@" >/dev/null
	kill -INT "$tr"
	wait "$tr" 2>/dev/null || true
}
can_strace() { [ "$STRACE" = 1 ] && command -v strace >/dev/null; }

# strace_top FILE [PER]: the calls of the 7 most frequent system calls in a
# strace -c summary, and of all of them; with PER, also the calls per PER
# (per file of a tree)
strace_top() {
	awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {print $4, $NF} $NF == "total" {t = $4}
		END {print t, "all"}' "$1" | sort -k1,1nr |
		awk -v per="${2:-0}" 'NR <= 8 {printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1; if (per) printf " (%.1f)", $1 / per}'
}

# strace_table PER NAME...: the strace_top of both ends of each NAME, as
# table rows (PER 0: no calls per file)
strace_table() {
	local n per=$1
	shift
	echo "| ferry | end | system calls (all, then the 7 most frequent)$([ "$per" = 0 ] || echo "; in brackets per file") |"
	echo "|---|---|---|"
	for n in "$@"; do
		echo "| $n | client | $(strace_top "$TMP/strace.cl.$n" "$per") |"
		echo "| $n | server | $(strace_top "$TMP/strace.srv.$n" "$per") |"
	done
}

part_get() {
	local tools=(ferry-get ferry-send scp-O scp-sftp socat socat-b) n i t r m load0 sec=$TMP/section.get
	local -A W MB
	load0=$(load)
	log "get: writing ${SIZE_MIB} MiB, 10 MiB, 100 MiB and 1 GiB random files"
	head -c $((SIZE_MIB << 20)) /dev/urandom >"$TMP/in/big.bin"
	for m in 10 100 1024; do head -c $((m << 20)) /dev/urandom >"$TMP/in/f$m.bin"; done
	start_server "$TMP/get-srv"
	"$FERRY" send "${FC[@]}" -as big.bin "$TMP/in/big.bin" >/dev/null
	for m in 10 100 1024; do "$FERRY" send "${FC[@]}" -as "f$m.bin" "$TMP/in/f$m.bin" >/dev/null; done
	n=${#tools[@]}
	for t in "${tools[@]}"; do : >"$TMP/r.$t"; done
	for r in $(seq "$RUNS"); do
		log "get: run $r of $RUNS: ${SIZE_MIB} MiB by ${tools[*]}, taking turns"
		for i in $(rotate "$n" "$r"); do
			t=${tools[$i]}
			get_one "$t" >>"$TMP/r.$t"
			log "  $t: $(tail -n 1 "$TMP/r.$t")"
		done
	done
	for t in "${tools[@]}"; do
		W[$t]=$(med "$TMP/r.$t" 1)
		MB[$t]=$(mbps "$SIZE_MIB" "${W[$t]}")
	done
	if can_strace; then
		log "get: strace -c of one get and one send, both ends"
		rm -f "$TMP/out/big.bin"
		straced get "$FERRY" get "${FC[@]}" -o "$TMP/out/big.bin" big.bin
		rm -f "$TMP/out/big.bin"
		straced send "$FERRY" send "${FC[@]}" -as up.bin "$TMP/in/big.bin"
		"$FERRY" rm "${FC[@]}" up.bin >/dev/null
	fi
	stop_server

	log "get: peak RSS, a fresh server for each get"
	: >"$TMP/rss"
	for r in $(seq "$RUNS"); do
		for m in 10 100 1024; do
			start_server "$TMP/get-srv"
			local base h c
			base=$(hwm_kib "$SRV_PID")
			c=$(timed "$FERRY" get "${FC[@]}" -o "$TMP/out/f$m.bin" "f$m.bin" | awk '{print $4}')
			h=$(hwm_kib "$SRV_PID")
			echo "$m $c $h $base $(same file "$TMP/in/f$m.bin" "$TMP/out/f$m.bin")" >>"$TMP/rss"
			rm -f "$TMP/out/f$m.bin"
			stop_server
			log "  $m MiB: client $c KiB, server $h KiB (fresh: $base KiB)"
		done
	done
	local -A RC RS RB
	for m in 10 100 1024; do
		RC[$m]=$(awk -v m="$m" '$1 == m && $2 > x {x = $2} END {print x}' "$TMP/rss")
		RS[$m]=$(awk -v m="$m" '$1 == m && $3 > x {x = $3} END {print x}' "$TMP/rss")
		RB[$m]=$(awk -v m="$m" '$1 == m && $4 > x {x = $4} END {print x}' "$TMP/rss")
	done
	local plain=${W[socat-b]} scp=${W[scp-O]} peak flat
	# the references: the faster of the two plain copies, and of the two scp protocols
	[ "$(calc "${W[socat]} < $plain" d)" = 1 ] && plain=${W[socat]}
	[ "$(calc "${W[scp-sftp]} < $scp" d)" = 1 ] && scp=${W[scp-sftp]}
	peak=$(printf '%s\n' "${RC[@]}" "${RS[@]}" | sort -n | tail -n 1)
	flat="$(calc "(${RC[1024]} - ${RC[10]}) / 1024" +.1f) / $(calc "(${RS[1024]} - ${RS[10]}) / 1024" +.1f)"

	{
		echo "## Download of one big file (bench/ops, get)"
		echo
		echo "Regenerated by \`make bench-ops\` (\`bench/ops/run.sh\`, PARTS=get, RUNS=$RUNS) on $(date -u +%F)."
		echo "Machine: $(machine); load average $load0 at the start of the part and $(load) at its end."
		echo "One ${SIZE_MIB} MiB random file over loopback TCP, tmpfs to tmpfs; time is the wall time of the"
		echo "whole command (process start, handshake, transfer, ferry's end-to-end check and rename),"
		echo "the median of $RUNS runs; the tools take turns, each run starting with the next one."
		echo "Every copy is compared with the original (cmp). ssh runs aes128-gcm@openssh.com as a"
		echo "temporary user whose shell is /bin/sh; an ssh session that runs \`true\` takes $(calc "$SSH_SETUP" .2f) s,"
		echo "included in both scp figures."
		echo
		echo "| what | command | seconds | MB/s | every run (s) | identical |"
		echo "|---|---|---|---|---|---|"
		echo "| ferry get | \`ferry get -server 127.0.0.1:PORT -ca CA -state ST -q -o OUT big.bin\` | ${W[ferry-get]} | ${MB[ferry-get]} | $(runs "$TMP/r.ferry-get" 1) | $(count_yes "$TMP/r.ferry-get" 7) |"
		echo "| ferry send | \`ferry send -server 127.0.0.1:PORT -ca CA -state ST -q -as up.bin FILE\` | ${W[ferry-send]} | ${MB[ferry-send]} | $(runs "$TMP/r.ferry-send" 1) | $(count_yes "$TMP/r.ferry-send" 7) |"
		echo "| scp -O download | \`scp -O -c $AES USER@127.0.0.1:FILE OUT\` | ${W[scp-O]} | ${MB[scp-O]} | $(runs "$TMP/r.scp-O" 1) | $(count_yes "$TMP/r.scp-O" 7) |"
		echo "| scp download (sftp protocol) | \`scp -c $AES USER@127.0.0.1:FILE OUT\` | ${W[scp-sftp]} | ${MB[scp-sftp]} | $(runs "$TMP/r.scp-sftp" 1) | $(count_yes "$TMP/r.scp-sftp" 7) |"
		echo "| plain copy | \`socat -u TCP-LISTEN:PORT OPEN:OUT,creat\` ← \`socat -b 262144 -u FILE TCP:127.0.0.1:PORT\` | ${W[socat]} | ${MB[socat]} | $(runs "$TMP/r.socat" 1) | $(count_yes "$TMP/r.socat" 7) |"
		echo "| plain copy, 256 KiB reads both ends | \`socat -b 262144 -u TCP-LISTEN:PORT OPEN:OUT,creat\` ← the same | ${W[socat-b]} | ${MB[socat-b]} | $(runs "$TMP/r.socat-b" 1) | $(count_yes "$TMP/r.socat-b" 7) |"
		echo
		echo "The goals of issue 12, against references measured in this run (scp: the faster of"
		echo "its two protocols; plain copy: the faster of the two socat pairs):"
		echo
		echo "| goal | measured | |"
		echo "|---|---|---|"
		echo "| (for scale: the plain copy against scp) | $(ratio "$scp" "$plain")× | |"
		echo "| get ≥ 2.5× scp | $(ratio "$scp" "${W[ferry-get]}")× (scp -O: $(ratio "${W[scp-O]}" "${W[ferry-get]}")×, sftp: $(ratio "${W[scp-sftp]}" "${W[ferry-get]}")×) | $(goal "$(ratio "$scp" "${W[ferry-get]}")" 2.5) |"
		echo "| get ≥ 0.9× send | $(ratio "${W[ferry-send]}" "${W[ferry-get]}")× | $(goal "$(ratio "${W[ferry-send]}" "${W[ferry-get]}")" 0.9) |"
		echo "| get ≥ 0.6× plain copy | $(ratio "$plain" "${W[ferry-get]}")× | $(goal "$(ratio "$plain" "${W[ferry-get]}")" 0.6) |"
		echo "| send ≥ 0.6× plain copy | $(ratio "$plain" "${W[ferry-send]}")× | $(goal "$(ratio "$plain" "${W[ferry-send]}")" 0.6) |"
		echo "| peak RSS of get, both ends, < 16 MiB | $(mib "$peak") MiB at most | $(awk -v p="$peak" 'BEGIN {print (p < 16384 ? "met" : "**missed**")}') |"
		echo "| flat from 10 MiB to 1 GiB (growth under 2 MiB) | client / server $flat MiB | $(awk -v a="${RC[1024]}" -v b="${RC[10]}" -v c="${RS[1024]}" -v d="${RS[10]}" 'BEGIN {print (a - b < 2048 && c - d < 2048 ? "met" : "**missed**")}') |"
		echo
		echo "Where the time goes: CPU seconds of each ferry end (client: \`/usr/bin/time\`; server:"
		echo "utime and stime of \`/proc/PID/stat\` across the command), medians of $RUNS runs."
		echo
		echo "| ferry | wall s | client user | client sys | server user | server sys |"
		echo "|---|---|---|---|---|---|"
		for t in ferry-get ferry-send; do
			echo "| ${t#ferry-} | ${W[$t]} | $(med "$TMP/r.$t" 2) | $(med "$TMP/r.$t" 3) | $(med "$TMP/r.$t" 5) | $(med "$TMP/r.$t" 6) |"
		done
		if [ -f "$TMP/strace.cl.get" ]; then
			echo
			echo "System calls of one get and one send (\`strace -f -c\`, the client run under it,"
			echo "the server attached with \`-p\`; strace slows both, so only the counts mean anything):"
			echo
			strace_table 0 get send
		fi
		echo
		echo "Peak RSS of \`ferry get\` (client: \`/usr/bin/time\` maximum resident set; server: VmHWM"
		echo "of a \`ferry serve\` started for that one get, and, in brackets, right after its start),"
		echo "the largest of $RUNS runs:"
		echo
		echo "| file | client | server | identical |"
		echo "|---|---|---|---|"
		for m in 10 100 1024; do
			echo "| $m MiB | $(mib "${RC[$m]}") MiB | $(mib "${RS[$m]}") MiB ($(mib "${RB[$m]}")) | $(awk -v m="$m" '$1 == m && $5 == "yes" {k++} $1 == m {n++} END {printf "%d/%d", k, n}' "$TMP/rss") |"
		done
	} >"$sec"
	write_section ops-get "$sec"
}

# --- part tree: 10,000 small files ---------------------------------------------
# tree_one TOOL: one upload and one download of the tree; prints
# "up_wall up_rss down_wall down_rss identical_up identical_down".
tree_one() {
	local src=$TMP/tree/t u d up down
	case $1 in
	ferry)
		u=$(ferry_timed "$FERRY" send "${FC[@]}" -r "$src")
		up=$(same tree "$src" "$(stored "$TMP/tree-srv" t)")
		d=$(ferry_timed "$FERRY" get "${FC[@]}" -r -to "$TMP/out" t)
		down=$(same tree "$src" "$TMP/out/t")
		"$FERRY" rm "${FC[@]}" -r t >/dev/null
		echo "$u" >>"$TMP/cpu.send-r"
		echo "$d" >>"$TMP/cpu.get-r"
		ferry_timed "$FERRY" ls "${FC[@]}" >>"$TMP/cpu.ls" # the fixed cost of a command
		;;
	rsync)
		u=$(timed rsync -a -e "$RSH" "$src" "$SSH_AT:$TMP/dst/rs/")
		up=$(same tree "$src" "$TMP/dst/rs/t")
		d=$(timed rsync -a -e "$RSH" "$SSH_AT:$TMP/dst/rs/t" "$TMP/out/")
		down=$(same tree "$src" "$TMP/out/t")
		;;
	scp-O | scp-sftp)
		local o=()
		[ "$1" = scp-O ] && o=(-O)
		u=$(timed scp "${o[@]}" -q -r "${SSH_OPTS[@]}" -P "$SSH_PORT" "$src" "$SSH_AT:$TMP/dst/t")
		up=$(same tree "$src" "$TMP/dst/t")
		d=$(timed scp "${o[@]}" -q -r "${SSH_OPTS[@]}" -P "$SSH_PORT" "$SSH_AT:$TMP/dst/t" "$TMP/out/t")
		down=$(same tree "$src" "$TMP/out/t")
		;;
	esac
	echo "$(echo "$u" | awk '{print $1, $4}') $(echo "$d" | awk '{print $1, $4}') $up $down"
	rm -rf "$TMP/out/t" "$TMP/dst/t" "$TMP/dst/rs"
}

part_tree() {
	local tools=(ferry rsync scp-O scp-sftp) n i t r load0 sec=$TMP/section.tree files dirs
	local -A U D
	load0=$(load)
	log "tree: writing 10,000 files of 1 KiB in 10 x 10 folders"
	python3 - "$TMP/tree/t" <<'EOF'
import os, sys
root = sys.argv[1]
for a in range(10):
    for b in range(10):
        d = os.path.join(root, "d%02d" % a, "e%02d" % b)
        os.makedirs(d)
        for c in range(100):
            with open(os.path.join(d, "f%03d.bin" % c), "wb") as f:
                f.write(os.urandom(1024))
EOF
	files=$(find "$TMP/tree/t" -type f | wc -l)
	dirs=$(find "$TMP/tree/t" -type d | wc -l)
	start_server "$TMP/tree-srv"
	"$FERRY" ls "${FC[@]}" >/dev/null # registers the client: not part of any figure
	n=${#tools[@]}
	for t in "${tools[@]}"; do : >"$TMP/r.$t"; done
	for t in send-r get-r ls; do : >"$TMP/cpu.$t"; done
	for r in $(seq "$RUNS"); do
		log "tree: run $r of $RUNS: ${tools[*]}, taking turns"
		for i in $(rotate "$n" "$r"); do
			t=${tools[$i]}
			tree_one "$t" >>"$TMP/r.$t"
			log "  $t: $(tail -n 1 "$TMP/r.$t")"
		done
	done
	if can_strace; then
		log "tree: strace -c of one send -r and one get -r, both ends"
		straced send-r "$FERRY" send "${FC[@]}" -r "$TMP/tree/t"
		straced get-r "$FERRY" get "${FC[@]}" -r -to "$TMP/out" t
		"$FERRY" rm "${FC[@]}" -r t >/dev/null
		rm -rf "$TMP/out/t"
	fi
	stop_server
	for t in "${tools[@]}"; do
		U[$t]=$(med "$TMP/r.$t" 1)
		D[$t]=$(med "$TMP/r.$t" 3)
	done
	local scpu=${U[scp-O]} scpd=${D[scp-O]}
	[ "$(calc "${U[scp-sftp]} < $scpu" d)" = 1 ] && scpu=${U[scp-sftp]}
	[ "$(calc "${D[scp-sftp]} < $scpd" d)" = 1 ] && scpd=${D[scp-sftp]}
	local fr rr
	fr=$(calc "${U[ferry]} + ${D[ferry]}")
	rr=$(calc "${U[rsync]} + ${D[rsync]}")
	{
		echo "## Many small files (bench/ops, tree)"
		echo
		echo "Regenerated by \`make bench-ops\` (\`bench/ops/run.sh\`, PARTS=tree, RUNS=$RUNS) on $(date -u +%F)."
		echo "Machine: $(machine); load average $load0 at the start of the part and $(load) at its end."
		echo "A tree of $files random files of 1 KiB in $dirs folders (\`t/dNN/eNN/fNNN.bin\`) on tmpfs, up to a"
		echo "destination on tmpfs over loopback and back down into an empty folder; wall time of"
		echo "the whole command, the median of $RUNS runs, the tools taking turns. Every copy, up and"
		echo "down, is compared with the original (\`diff -r\`). ssh: aes128-gcm@openssh.com, a temporary"
		echo "user whose shell is /bin/sh (an ssh session running \`true\`: $(calc "$SSH_SETUP" .2f) s)."
		echo "ferry's client is registered beforehand; each ferry run ends with \`ferry rm -r t\` (not timed)."
		echo
		echo "| tool | up: command | up s | down: command | down s | every run up; down (s) | identical up, down |"
		echo "|---|---|---|---|---|---|---|"
		echo "| ferry | \`ferry send -r t\` | ${U[ferry]} | \`ferry get -r -to OUT t\` | ${D[ferry]} | $(runs "$TMP/r.ferry" 1); $(runs "$TMP/r.ferry" 3) | $(count_yes "$TMP/r.ferry" 5), $(count_yes "$TMP/r.ferry" 6) |"
		echo "| rsync | \`rsync -a -e 'ssh -c $AES' t USER@127.0.0.1:DST/\` | ${U[rsync]} | \`rsync -a -e 'ssh ...' USER@127.0.0.1:DST/t OUT/\` | ${D[rsync]} | $(runs "$TMP/r.rsync" 1); $(runs "$TMP/r.rsync" 3) | $(count_yes "$TMP/r.rsync" 5), $(count_yes "$TMP/r.rsync" 6) |"
		echo "| scp -O | \`scp -O -r -c $AES t USER@127.0.0.1:DST/t\` | ${U[scp-O]} | \`scp -O -r ... USER@127.0.0.1:DST/t OUT/t\` | ${D[scp-O]} | $(runs "$TMP/r.scp-O" 1); $(runs "$TMP/r.scp-O" 3) | $(count_yes "$TMP/r.scp-O" 5), $(count_yes "$TMP/r.scp-O" 6) |"
		echo "| scp (sftp protocol) | \`scp -r -c $AES t USER@127.0.0.1:DST/t\` | ${U[scp-sftp]} | \`scp -r ... USER@127.0.0.1:DST/t OUT/t\` | ${D[scp-sftp]} | $(runs "$TMP/r.scp-sftp" 1); $(runs "$TMP/r.scp-sftp" 3) | $(count_yes "$TMP/r.scp-sftp" 5), $(count_yes "$TMP/r.scp-sftp" 6) |"
		echo
		echo "Where ferry's time goes: CPU seconds of each end (as for get above), medians of $RUNS runs;"
		echo "\`ferry ls\` of the then empty folder gives the fixed cost of a command (start, TCP,"
		echo "handshake, authentication, one request)."
		echo
		echo "| ferry | wall s | client user | client sys | server user | server sys |"
		echo "|---|---|---|---|---|---|"
		for t in send-r get-r ls; do
			echo "| ${t/-r/ -r} | $(med "$TMP/cpu.$t" 1) | $(med "$TMP/cpu.$t" 2) | $(med "$TMP/cpu.$t" 3) | $(med "$TMP/cpu.$t" 5) | $(med "$TMP/cpu.$t" 6) |"
		done
		if [ -f "$TMP/strace.cl.send-r" ]; then
			echo
			echo "System calls of one send -r and one get -r of the tree (\`strace -f -c\`, as for get):"
			echo
			strace_table "$files" send-r get-r
		fi
		echo
		echo "Peak RSS of the ferry client: send -r $(mib "$(awk '$2 > x {x = $2} END {print x}' "$TMP/r.ferry")") MiB, get -r $(mib "$(awk '$4 > x {x = $4} END {print x}' "$TMP/r.ferry")") MiB (largest of $RUNS runs)."
		echo
		echo "| goal (scp: the faster of its two protocols) | measured | |"
		echo "|---|---|---|"
		echo "| (for scale: rsync against scp -r, up; down) | $(ratio "$scpu" "${U[rsync]}")×; $(ratio "$scpd" "${D[rsync]}")× | |"
		echo "| send -r at least as fast as rsync up | $(ratio "${U[rsync]}" "${U[ferry]}")× | $(goal "$(ratio "${U[rsync]}" "${U[ferry]}")" 1) |"
		echo "| get -r at least as fast as rsync down | $(ratio "${D[rsync]}" "${D[ferry]}")× | $(goal "$(ratio "${D[rsync]}" "${D[ferry]}")" 1) |"
		echo "| send -r then get -r against rsync both ways | $(ratio "$rr" "$fr")× ($fr s against $rr s) | $(goal "$(ratio "$rr" "$fr")" 1) |"
		echo "| send -r ≥ 3× scp -r up | $(ratio "$scpu" "${U[ferry]}")× | $(goal "$(ratio "$scpu" "${U[ferry]}")" 3) |"
		echo "| get -r ≥ 3× scp -r down | $(ratio "$scpd" "${D[ferry]}")× | $(goal "$(ratio "$scpd" "${D[ferry]}")" 3) |"
	} >"$sec"
	write_section ops-tree "$sec"
}

# --- part serial: 115200 baud over cmd/linesim -pty -----------------------------
# serial_one N: one session after another on a fresh line and server; appends
# "what wall rss identical" lines to $TMP/s.WHAT.
serial_one() {
	local d=$TMP/serial.$1 a b sim srv r s=()
	mkdir -p "$d/out"
	"$TMP/linesim" -baud "$BAUD" -pty >"$d/sim.out" 2>"$d/sim.err" &
	sim=$!
	PIDS+=("$sim")
	for _ in $(seq 100); do [ -s "$d/sim.out" ] && break; sleep 0.05; done
	read -r a b <"$d/sim.out"
	"$FERRY" serve -serial "$a" -baud "$BAUD" -data "$d/data" 2>"$d/serve.log" &
	srv=$!
	PIDS+=("$srv")
	for _ in $(seq 200); do grep -q "serving on" "$d/serve.log" && break; sleep 0.05; done
	s=(-serial "$b" -baud "$BAUD" -trust-new -state "$d/state" -q)
	r=$(timed "$FERRY" ls "${s[@]}")
	echo "$r" | awk '{print $1, $4, "yes"}' >>"$TMP/s.first"
	r=$(timed "$FERRY" ls "${s[@]}")
	echo "$r" | awk '{print $1, $4, "yes"}' >>"$TMP/s.ls"
	r=$(timed "$FERRY" send "${s[@]}" -r "$TMP/in/s100")
	echo "$(echo "$r" | awk '{print $1, $4}') $(same tree "$TMP/in/s100" "$(stored "$d/data" s100)")" >>"$TMP/s.sendr"
	r=$(timed "$FERRY" get "${s[@]}" -r -to "$d/out" s100)
	echo "$(echo "$r" | awk '{print $1, $4}') $(same tree "$TMP/in/s100" "$d/out/s100")" >>"$TMP/s.getr"
	r=$(timed "$FERRY" send "${s[@]}" "$TMP/in/f256.bin")
	echo "$(echo "$r" | awk '{print $1, $4}') $(same file "$TMP/in/f256.bin" "$(stored "$d/data" f256.bin)")" >>"$TMP/s.send"
	r=$(timed "$FERRY" get "${s[@]}" -o "$d/out/f256.bin" f256.bin)
	echo "$(echo "$r" | awk '{print $1, $4}') $(same file "$TMP/in/f256.bin" "$d/out/f256.bin")" >>"$TMP/s.get"
	kill "$srv"
	kill -INT "$sim"
	wait "$srv" "$sim" 2>/dev/null || true
	# Stalls: the server logs each stored file (1 s resolution); files of
	# 4 KiB follow each other every 0.36 s, so 2 s between two means a stall.
	awk '/stored "s100\// {split($3, t, ":"); x = t[1] * 3600 + t[2] * 60 + t[3]; if (n++ && x - p >= 2) k++; p = x}
		END {print k + 0}' "$d/serve.log" >>"$TMP/s.stalls"
}

part_serial() {
	local r i load0 sec=$TMP/section.serial rate tree_b=$((100 * 4096)) file_b=$((256 << 10)) w
	load0=$(load)
	rate=$((BAUD / 10))
	mkdir -p "$TMP/in/s100"
	for i in $(seq -w 0 99); do head -c 4096 /dev/urandom >"$TMP/in/s100/f$i.bin"; done
	head -c "$file_b" /dev/urandom >"$TMP/in/f256.bin"
	for w in first ls sendr getr send get stalls; do : >"$TMP/s.$w"; done
	for r in $(seq "$RUNS"); do
		log "serial: run $r of $RUNS at $BAUD baud (about $((2 * tree_b / rate + 2 * file_b / rate + 5)) s)"
		serial_one "$r"
		for w in sendr getr send get; do log "  $w: $(tail -n 1 "$TMP/s.$w")"; done
	done
	# eff BYTES WHAT: efficiency in percent of the median wall time
	eff() { calc "100 * $1 / ($(med "$TMP/s.$2" 1) * $rate)" .1f; }
	{
		echo "## Serial line: folders and downloads (bench/ops, serial)"
		echo
		echo "Regenerated by \`make bench-ops\` (\`bench/ops/run.sh\`, PARTS=serial, RUNS=$RUNS) on $(date -u +%F)."
		echo "Machine: $(machine); load average $load0 at the start of the part and $(load) at its end."
		echo "$BAUD baud over \`cmd/linesim -baud $BAUD -pty\` (a clean line, 10 bits a byte), \`ferry serve -serial A\`"
		echo "and the client on \`-serial B -baud $BAUD -trust-new -q\`; each run a fresh line, server and client"
		echo "state, and these commands one after another. Efficiency = file bytes / (wall time × $rate B/s),"
		echo "the wall time of the whole command (start, handshake, transfer, checks), the median of $RUNS runs."
		echo
		echo "| command | file bytes | seconds | efficiency | every run (s) | identical | client peak RSS |"
		echo "|---|---|---|---|---|---|---|"
		echo "| \`ferry ls\`, first (handshake, pin, registration) | 0 | $(med "$TMP/s.first" 1) | | $(runs "$TMP/s.first" 1) | | $(mib "$(med "$TMP/s.first" 2)") MiB |"
		echo "| \`ferry ls\` (handshake and an empty list) | 0 | $(med "$TMP/s.ls" 1) | | $(runs "$TMP/s.ls" 1) | | $(mib "$(med "$TMP/s.ls" 2)") MiB |"
		echo "| \`ferry send -r s100\` (100 files of 4 KiB) | $tree_b | $(med "$TMP/s.sendr" 1) | $(eff "$tree_b" sendr)% | $(runs "$TMP/s.sendr" 1) | $(count_yes "$TMP/s.sendr" 3) | $(mib "$(med "$TMP/s.sendr" 2)") MiB |"
		echo "| \`ferry get -r -to OUT s100\` | $tree_b | $(med "$TMP/s.getr" 1) | $(eff "$tree_b" getr)% | $(runs "$TMP/s.getr" 1) | $(count_yes "$TMP/s.getr" 3) | $(mib "$(med "$TMP/s.getr" 2)") MiB |"
		echo "| \`ferry send f256.bin\` (256 KiB) | $file_b | $(med "$TMP/s.send" 1) | $(eff "$file_b" send)% | $(runs "$TMP/s.send" 1) | $(count_yes "$TMP/s.send" 3) | $(mib "$(med "$TMP/s.send" 2)") MiB |"
		echo "| \`ferry get -o OUT f256.bin\` | $file_b | $(med "$TMP/s.get" 1) | $(eff "$file_b" get)% | $(runs "$TMP/s.get" 1) | $(count_yes "$TMP/s.get" 3) | $(mib "$(med "$TMP/s.get" 2)") MiB |"
		echo
		echo "Stalls during \`send -r\` (two consecutive files stored 2 s or more apart in the server's log,"
		echo "where $(calc "4096 / $rate" .2f) s is the norm), each run: $(runs "$TMP/s.stalls" 1)."
		echo
		echo "| goal | measured | |"
		echo "|---|---|---|"
		echo "| send -r of 100 files of 4 KiB ≥ 90% of line rate | $(eff "$tree_b" sendr)% | $(goal "$(eff "$tree_b" sendr)" 90) |"
		echo "| get of 256 KiB as efficient as send (within 1 point) | $(eff "$file_b" get)% against $(eff "$file_b" send)% | $(goal "$(calc "$(eff "$file_b" get) - $(eff "$file_b" send) + 1")" 0) |"
		echo "| get of 256 KiB ≥ 98% on a clean line | $(eff "$file_b" get)% | $(goal "$(eff "$file_b" get)" 98) |"
	} >"$sec"
	write_section ops-serial "$sec"
}

for p in $PARTS; do
	case $p in
	get) part_get ;;
	tree) part_tree ;;
	serial) part_serial ;;
	*) log "unknown part $p (get, tree, serial)"; exit 2 ;;
	esac
done
if [ -s "$TMP/bad" ]; then
	log "$(wc -l <"$TMP/bad") results differ from their originals"
	exit 1
fi
