#!/usr/bin/env bash
# bench/perf/run.sh: ferry against OpenSSH scp and sftp on this machine, in
# one run, and the perf section of docs/BENCHMARKS.md with its plot.
#
# It builds ferry, writes 10 MiB, 100 MiB and 1 GiB random files on tmpfs,
# starts a private sshd on 127.0.0.1 (its own config, host key and client
# key in a temporary directory; installed with apt-get if missing; a
# temporary login user), and
# measures uploads to tmpfs destinations: scp (legacy protocol, -O) and
# sftp with aes128-gcm@openssh.com and chacha20-poly1305@openssh.com, ferry
# send (AES-256-GCM, the suite it negotiates on this CPU) and a
# ChaCha20-Poly1305 ferry client (bench/perf/load -n 1 -suite chacha: ferry
# send has no flag to choose the suite). Then the Go benchmarks: raw AEAD
# speed, allocations per chunk and per handshake, handshake time and bytes;
# peak RSS of client and server per file size; 256 concurrent clients.
#
# Environment: RUNS (default 3) runs per measurement, the median reported;
# KEEP=1 keeps the temporary directory. Needs root for apt-get and sshd.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-3}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg) # other work on the machine skews every figure
DOC=docs/BENCHMARKS.md
PLOT=docs/perf.png
FERRY=$ROOT/bin/ferry

log() { printf 'perf: %s\n' "$*" >&2; }

# --- tools ---------------------------------------------------------------
need_pkgs=()
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
command -v scp >/dev/null || need_pkgs+=(openssh-client)
command -v gnuplot >/dev/null || need_pkgs+=(gnuplot-nox)
[ -x /usr/bin/time ] || need_pkgs+=(time)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	log "installing ${need_pkgs[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

log "building ferry and the load client"
make -s build
TMP=$(mktemp -d /dev/shm/ferry-perf.XXXXXX) # tmpfs: the disk does not decide
PIDS=()
SSH_USER_ADDED=
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$SSH_USER_ADDED" ] || userdel "$SSH_USER_ADDED" 2>/dev/null || true
	[ "${KEEP:-}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT
go build -o "$TMP/load" ./bench/perf/load

# --- inputs --------------------------------------------------------------
SIZES=(10 100 1024) # MiB
for m in "${SIZES[@]}"; do
	head -c $((m << 20)) /dev/urandom >"$TMP/f$m.bin"
done
head -c $((4 << 20)) /dev/urandom >"$TMP/f4.bin"

# freeport prints a TCP port nobody listens on.
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# median of numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# timed CMD...: runs CMD, prints its wall time in seconds
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

mbps() { printf '%.1f' "$(echo "$1 * 1048576 / $2 / 1000000" | bc -l)"; } # MiB, seconds -> MB/s

# --- private sshd ----------------------------------------------------------
SSHD=$TMP/sshd
mkdir -p "$SSHD" "$TMP/dst" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$SSHD/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$SSHD/client_key"
cp "$SSHD/client_key.pub" "$SSHD/authorized_keys"
chmod 644 "$SSHD/authorized_keys" # sshd reads it as the login user
SSH_PORT=$(freeport)
# A temporary user with /bin/sh as its shell receives the files: a root login
# would run root's ~/.bashrc (sshd has bash source it) before every scp, and
# on this machine that alone costs about a second. Removed on exit.
USER_NAME=ferrybench$$
useradd -M -p '*' -d "$TMP/dst" -s /bin/sh "$USER_NAME" # '*': no password, yet not locked (sshd without PAM refuses locked accounts)
SSH_USER_ADDED=$USER_NAME
chown "$USER_NAME" "$TMP/dst"
chmod 711 "$TMP" # mktemp made it 0700
cat >"$SSHD/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $SSHD/host_key
PidFile $SSHD/sshd.pid
AuthorizedKeysFile $SSHD/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
StrictModes no
Ciphers aes128-gcm@openssh.com,chacha20-poly1305@openssh.com
Compression no
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
/usr/sbin/sshd -f "$SSHD/sshd_config" -D -e 2>"$SSHD/log" &
PIDS+=($!)
SSH_OPTS=(-F /dev/null -i "$SSHD/client_key" -o UserKnownHostsFile="$SSHD/known_hosts"
	-o StrictHostKeyChecking=no -o BatchMode=yes -o Compression=no -o LogLevel=ERROR)
for _ in $(seq 50); do
	ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" "$USER_NAME@127.0.0.1" true 2>/dev/null && break
	sleep 0.1
done
: >"$TMP/t"
for _ in $(seq "$RUNS"); do timed ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" "$USER_NAME@127.0.0.1" true >>"$TMP/t"; done
SSH_SETUP=$(median <"$TMP/t") # an ssh session that runs true: the fixed cost of every scp and sftp

scp_up() { # cipher file
	scp -O -q "${SSH_OPTS[@]}" -c "$1" -P "$SSH_PORT" "$2" "$USER_NAME@127.0.0.1:$TMP/dst/x"
}
sftp_up() { # cipher file
	echo "put $2 $TMP/dst/x" | sftp -q "${SSH_OPTS[@]}" -c "$1" -P "$SSH_PORT" -b - "$USER_NAME@127.0.0.1" >/dev/null
}

# --- ferry server ----------------------------------------------------------
# start_server: a fresh ferry server on tmpfs; sets SRV_PID, SRV_ADDR, SRV_DIR.
start_server() {
	SRV_DIR=$(mktemp -d "$TMP/srv.XXXX")
	SRV_ADDR=127.0.0.1:$(freeport)
	"$FERRY" serve -listen "$SRV_ADDR" -data "$SRV_DIR" 2>"$SRV_DIR.log" &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	for _ in $(seq 100); do
		[ -f "$SRV_DIR/ca.pem" ] && grep -q serving "$SRV_DIR.log" && return
		sleep 0.05
	done
	log "ferry server did not start"; cat "$SRV_DIR.log" >&2; exit 1
}
stop_server() { kill "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; rm -rf "$SRV_DIR"; }
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; } # peak RSS of a live process

ferry_up() { # file: one ferry send; prints "seconds client_rss_kib"
	local out t0 t1
	t0=$(date +%s.%N)
	out=$( { /usr/bin/time -v "$FERRY" send -q -server "$SRV_ADDR" -ca "$SRV_DIR/ca.pem" \
		-state "$SRV_DIR.cl" -as x "$1" >/dev/null; } 2>&1) || { echo "$out" >&2; exit 1; }
	t1=$(date +%s.%N)
	echo "$(echo "$t1 - $t0" | bc -l) $(echo "$out" | awk -F': ' '/Maximum resident/ {print $2}')"
}
ferry_chacha_up() { # file: one ChaCha20-Poly1305 upload by the load client; prints seconds
	local t0 t1
	t0=$(date +%s.%N)
	"$TMP/load" -n 1 -suite chacha -server "$SRV_ADDR" -ca "$SRV_DIR/ca.pem" -file "$1" \
		-state "$(mktemp -d "$TMP/cc.XXXX")" >/dev/null
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

# --- transfers ---------------------------------------------------------------
AES=aes128-gcm@openssh.com
CHACHA=chacha20-poly1305@openssh.com
TOOLS=(scp-aes scp-chacha sftp-aes sftp-chacha ferry-aes ferry-chacha)
declare -A TP # TP[tool,size] = median MB/s
declare -A RSS_C RSS_S # peak RSS in KiB, the largest of the runs
for m in "${SIZES[@]}"; do
	f=$TMP/f$m.bin
	log "$m MiB: scp, sftp, ferry ×$RUNS, taking turns so that a burst of load elsewhere hits all alike"
	rc=0 rs=0
	for tool in "${TOOLS[@]}"; do : >"$TMP/t.$tool"; done
	for _ in $(seq "$RUNS"); do
		for tool in "${TOOLS[@]}"; do
			case $tool in
			scp-aes) timed scp_up $AES "$f" ;;
			scp-chacha) timed scp_up $CHACHA "$f" ;;
			sftp-aes) timed sftp_up $AES "$f" ;;
			sftp-chacha) timed sftp_up $CHACHA "$f" ;;
			ferry-aes)
				start_server
				read -r s c < <(ferry_up "$f")
				echo "$s"
				rc=$((c > rc ? c : rc))
				h=$(hwm_kib "$SRV_PID")
				rs=$((h > rs ? h : rs))
				stop_server
				;;
			ferry-chacha)
				start_server
				ferry_chacha_up "$f"
				stop_server
				;;
			esac >>"$TMP/t.$tool"
			rm -f "$TMP/dst/x"
		done
	done
	RSS_C[$m]=$rc RSS_S[$m]=$rs
	for tool in "${TOOLS[@]}"; do
		TP[$tool,$m]=$(mbps "$m" "$(median <"$TMP/t.$tool")")
		log "  $tool: ${TP[$tool,$m]} MB/s (seconds: $(tr '\n' ' ' <"$TMP/t.$tool"))"
	done
done

# --- Go benchmarks -----------------------------------------------------------
log "Go benchmarks: AEAD, handshake, allocations"
GOB=$TMP/gobench
go test -run '^$' -bench 'Seal64K|Handshake' -benchmem -count "$RUNS" ./crypt >"$GOB.crypt"
go test -run '^$' -bench 'Cksum64K$' -count "$RUNS" ./frame >"$GOB.frame"
go test -count=1 -v -run 'TestUploadChunkAllocs|TestReceivePipelinedAllocs' ./server >"$GOB.allocs"
go test -count=1 -v -run 'TestPipeSendAllocs|TestChunkAllocs|TestPackedChunks' ./client ./crypt >>"$GOB.allocs"
bench_med() { # file name column: median of a benchmark's column (e.g. MB/s)
	awk -v n="$2" -v u="$3" '$1 ~ "^"n"(-[0-9]+)?$" {for (i = 2; i <= NF; i++) if ($(i+1) == u) print $i}' "$1" | median
}
AES_RAW=$(bench_med "$GOB.crypt" BenchmarkSeal64K/AES-256-GCM MB/s)
CHACHA_RAW=$(bench_med "$GOB.crypt" BenchmarkSeal64K/ChaCha20-Poly1305 MB/s)
CKSUM_RAW=$(bench_med "$GOB.frame" BenchmarkCksum64K MB/s)
HS_NS=$(bench_med "$GOB.crypt" BenchmarkHandshake ns/op)
HS_ALLOCS=$(bench_med "$GOB.crypt" BenchmarkHandshake allocs/op)
HS_BYTES=$(bench_med "$GOB.crypt" BenchmarkHandshake wire-B/op)
UP_ALLOCS=$(grep -o 'upload of 4 chunks.*' "$GOB.allocs" | head -1)
grep -q -- '--- FAIL' "$GOB.allocs" && ALLOC_OK="FAIL (see go test -v -run Allocs)" || ALLOC_OK="pass"

# --- 256 concurrent clients ----------------------------------------------------
log "256 concurrent clients × 4 MiB"
start_server
LOAD=$("$TMP/load" -n 256 -server "$SRV_ADDR" -ca "$SRV_DIR/ca.pem" -file "$TMP/f4.bin" -state "$TMP/load-state" 2>"$TMP/load.err" || true)
LOAD_RSS=$(hwm_kib "$SRV_PID")
stop_server
kv() { echo "$LOAD" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
LOAD_MBPS=$(kv mbps) LOAD_ERR=$(kv errors) LOAD_S=$(kv seconds)
[ -n "$LOAD_ERR" ] || LOAD_ERR="failed: $(head -3 "$TMP/load.err")"
log "  $LOAD, server peak RSS $LOAD_RSS KiB"

# --- plot ------------------------------------------------------------------
mib() { printf '%.1f' "$(echo "$1 / 1024" | bc -l)"; }
{
	for m in "${SIZES[@]}"; do
		echo "$m ${TP[ferry-aes,$m]} ${TP[ferry-chacha,$m]} ${TP[scp-aes,$m]} ${TP[sftp-aes,$m]} ${TP[scp-chacha,$m]} $(mib "${RSS_C[$m]}") $(mib "${RSS_S[$m]}")"
	done
} >"$TMP/plot.dat"
gnuplot <<EOF
set terminal pngcairo size 900,520 font ",10" noenhanced
set output "$PLOT"
set title "ferry vs OpenSSH upload over loopback, tmpfs to tmpfs ($(nproc) cores)"
set logscale x 2
set xrange [7:1500]
set xlabel "file size (MiB)"
set xtics ("10" 10, "100" 100, "1024" 1024)
set ylabel "throughput (MB/s)"
set y2label "peak RSS (MiB)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key outside right
set grid
plot "$TMP/plot.dat" using 1:2 with linespoints lw 2 title "ferry AES-256-GCM", \
     "" using 1:3 with linespoints lw 2 title "ferry ChaCha20-Poly1305", \
     "" using 1:4 with linespoints title "scp aes128-gcm", \
     "" using 1:5 with linespoints title "sftp aes128-gcm", \
     "" using 1:6 with linespoints title "scp chacha20-poly1305", \
     "" using 1:7 axes x1y2 with linespoints dt 2 title "ferry client RSS", \
     "" using 1:8 axes x1y2 with linespoints dt 2 title "ferry server RSS"
EOF

# --- report ------------------------------------------------------------------
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
G=1024
SECTION=$TMP/section.md
{
	echo "## Throughput, memory and allocations (bench/perf)"
	echo
	echo "Regenerated by \`make bench\` (\`bench/perf/run.sh\`, RUNS=$RUNS) on $(date -u +%Y-%m-%d)."
	echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr), $(go version | awk '{print $3}'), $(ssh -V 2>&1 | cut -d, -f1), load average $LOAD_START at the start of the run and $(cut -d' ' -f1-3 /proc/loadavg) at its end."
	echo "Every upload goes over loopback TCP from a file on tmpfs to a destination on tmpfs;"
	echo "throughput is the file size over the wall time of the whole command (process start,"
	echo "handshake and authentication included), the median of $RUNS runs; the tools take"
	echo "turns, run after run, so that load from elsewhere falls on all of them alike."
	echo "ferry negotiates AES-256-GCM on this CPU; its ChaCha20-Poly1305 figures come from"
	echo "\`bench/perf/load -n 1 -suite chacha\` (the same client package, in-process), since"
	echo "\`ferry send\` has no flag to choose a suite. scp runs with \`-O\` (the scp protocol;"
	echo "OpenSSH 9 scp otherwise speaks sftp) as a temporary user whose shell is /bin/sh."
	echo "An ssh session that only runs \`true\` takes $(printf '%.2f' "$SSH_SETUP") s here: the fixed cost"
	echo "in every scp and sftp figure (ferry's handshake: see below)."
	echo
	echo "![throughput and peak RSS against file size](perf.png)"
	echo
	echo "### Uploads (MB/s, median of $RUNS)"
	echo
	echo "| file | ferry AES-256-GCM | ferry ChaCha20-Poly1305 | scp aes128-gcm | sftp aes128-gcm | scp chacha20-poly1305 | sftp chacha20-poly1305 | ferry / scp (AES) | ferry / scp (ChaCha) |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for m in "${SIZES[@]}"; do
		echo "| $m MiB | ${TP[ferry-aes,$m]} | ${TP[ferry-chacha,$m]} | ${TP[scp-aes,$m]} | ${TP[sftp-aes,$m]} | ${TP[scp-chacha,$m]} | ${TP[sftp-chacha,$m]} | $(ratio "${TP[ferry-aes,$m]}" "${TP[scp-aes,$m]}")× | $(ratio "${TP[ferry-chacha,$m]}" "${TP[scp-chacha,$m]}")× |"
	done
	echo
	echo "### Against the cipher's limit"
	echo
	echo "| | single-core seal, 64 KiB (\`BenchmarkSeal64K\`) | ferry 1 GiB upload | fraction |"
	echo "|---|---|---|---|"
	echo "| AES-256-GCM | $AES_RAW MB/s | ${TP[ferry-aes,$G]} MB/s | $(ratio "${TP[ferry-aes,$G]}" "$AES_RAW") |"
	echo "| ChaCha20-Poly1305 | $CHACHA_RAW MB/s | ${TP[ferry-chacha,$G]} MB/s | $(ratio "${TP[ferry-chacha,$G]}" "$CHACHA_RAW") |"
	echo
	echo "POSIX cksum (\`BenchmarkCksum64K\`, both sides compute it): $CKSUM_RAW MB/s."
	echo
	echo "The sealing is not what limits ferry: client and server share the $(nproc) cores, and"
	echo "on this virtual machine most of the server's time goes to the kernel (a socket read"
	echo "and a tmpfs write per 64 KiB chunk, and the context switches between them), as"
	echo "\`perf record\` on \`ferry serve\` shows."
	echo
	echo "### Peak RSS of \`ferry send\` and \`ferry serve\` (largest of $RUNS runs)"
	echo
	echo "| file | client | server |"
	echo "|---|---|---|"
	for m in "${SIZES[@]}"; do
		echo "| $m MiB | $(mib "${RSS_C[$m]}") MiB | $(mib "${RSS_S[$m]}") MiB |"
	done
	echo
	echo "Client: \`/usr/bin/time -v\` (Maximum resident set size); server: VmHWM of a fresh"
	echo "\`ferry serve\` after the upload."
	echo
	echo "### Allocations and handshake"
	echo
	echo "| figure | value | source |"
	echo "|---|---|---|"
	echo "| allocations per chunk, steady state | 0 ($ALLOC_OK) | \`go test -run 'Allocs|PackedChunks' ./client ./server ./crypt\` |"
	echo "| allocations of whole uploads, both sides | $UP_ALLOCS | \`go test -v -run TestUploadChunkAllocs ./server\` |"
	echo "| allocations per handshake, both sides | $HS_ALLOCS | \`go test -bench Handshake -benchmem ./crypt\` |"
	echo "| handshake time on loopback TCP | $(printf '%.2f' "$(echo "$HS_NS / 1000000" | bc -l)") ms | same |"
	echo "| handshake bytes on the wire, both ways | $HS_BYTES | same (Ed25519 leaf, chain of one) |"
	echo
	echo "### 256 concurrent clients, 4 MiB each"
	echo
	echo "Each client registers under its own name and state directory, uploads, says goodbye"
	echo "(\`bench/perf/load -n 256\` against a fresh \`ferry serve\`)."
	echo
	echo "| clients | total | time | throughput | errors | server peak RSS |"
	echo "|---|---|---|---|---|---|"
	echo "| 256 | 1 GiB | $LOAD_S s | $LOAD_MBPS MB/s | $LOAD_ERR | $(mib "$LOAD_RSS") MiB |"
	echo
	echo "Commands: \`make bench\` runs all of this; by hand: \`make build\`, then"
	echo "\`ferry serve -listen 127.0.0.1:PORT -data /dev/shm/srv\` and"
	echo "\`/usr/bin/time -v ferry send -q -server 127.0.0.1:PORT -ca /dev/shm/srv/ca.pem -state /dev/shm/cl FILE\`;"
	echo "\`scp -O -c aes128-gcm@openssh.com -P SSHPORT FILE USER@127.0.0.1:/dev/shm/dst\`;"
	echo "\`go test -run '^\$' -bench 'Seal64K|Handshake' -benchmem ./crypt\`;"
	echo "\`go run ./bench/perf/load -n 256 -server 127.0.0.1:PORT -ca /dev/shm/srv/ca.pem -file F4MIB -state DIR\`."
} >"$SECTION"

# Replace the perf section of the doc, leaving everything else (the serial
# section above all) as it is.
python3 - "$DOC" "$SECTION" <<'EOF'
import os, sys
doc, section = sys.argv[1], open(sys.argv[2]).read()
begin, end = "<!-- perf:begin -->", "<!-- perf:end -->"
if not os.path.exists(doc):
    text = ("# Benchmarks\n\n<!-- serial:begin -->\n<!-- serial:end -->\n\n"
            + begin + "\n" + end + "\n")
else:
    text = open(doc).read()
    if begin not in text or end not in text:
        text = text.rstrip("\n") + "\n\n" + begin + "\n" + end + "\n"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(head + begin + "\n" + section + end + tail)
EOF
log "wrote $DOC and $PLOT"
sed -n '/<!-- perf:begin -->/,/<!-- perf:end -->/p' "$DOC"
