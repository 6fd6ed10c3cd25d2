#!/bin/sh
# size.sh: sizes of the board builds, and what costs the bytes.
#
#   size.sh check DIST BUDGET  print the size of DIST/ferry-<profile> for every
#                              boards/*.env; exit 1 if a mips or mipsle build
#                              is over BUDGET bytes
#   size.sh report PROFILE     build PROFILE unstripped and sum the symbol sizes
#                              per package, largest first
#
# Run from the repository root; GO and VERSION come from the environment.
set -eu
GO=${GO:-go}

# load PROFILE: set GOOS, GOARCH, GOARM, GOMIPS and TAGS from boards/PROFILE.env.
load() {
	unset GOOS GOARCH GOARM GOMIPS TAGS INLINE_ONLY LDEXTRA
	set -a
	# shellcheck source=/dev/null
	. "./boards/$1.env"
	set +a
}

check() {
	dist=$1 budget=$2 over=
	printf '%-30s %10s %8s  %s\n' binary bytes MiB target
	for env in boards/*.env; do
		p=$(basename "$env" .env)
		target=$(load "$p"; echo "$GOOS/$GOARCH")
		f=$dist/ferry-$p
		case $target in windows/*) f=$f.exe ;; esac
		[ -f "$f" ] || { echo "size: $f is missing: run make boards" >&2; exit 1; }
		n=$(wc -c < "$f")
		printf '%-30s %10d %8.2f  %s\n' "$f" "$n" "$(awk -v n="$n" 'BEGIN { print n / 1048576 }')" "$target"
		case $target in */mips*) [ "$n" -le "$budget" ] || over="$over $p" ;; esac
	done
	if [ -n "$over" ]; then
		echo "size: over the budget of $budget bytes:$over" >&2
		for p in $over; do report "$p"; done
		exit 1
	fi
}

# report PROFILE: the unstripped build's symbols summed per package. The
# stripped binary is smaller (no symbol table, no DWARF), but its code and
# data are split between packages in the same proportions.
report() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	GO=$GO ./boards/build.sh "$1" "$tmp/ferry"
	echo "packages by symbol bytes in the unstripped $1 build:"
	"$GO" tool nm -size "$tmp/ferry" > "$tmp/nm"
	awk '
	# hex: mawk has no strtonum.
	function hex(s,  i, n) { n = 0; for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return n }
	# bss and noptrbss take no bytes in the file: they start at runtime.bss.
	NR == FNR { if ($4 == "runtime.bss") bss = hex($1); next }
	hex($1) < bss {
	  # The package of a symbol: up to the first "." after the last "/"
	  # that comes before any type argument list.
	  size = $2; name = $4; head = name; sub(/\[.*/, "", head)
	  if (name ~ /^type:/) pkg = "(type descriptors)"
	  else if (name ~ /^go:/) pkg = "(go: strings, func tables)"
	  else if (name !~ /^[a-z]/) pkg = "(constants, gc maps)"
	  else { n = split(head, part, "/"); last = part[n]; sub(/\..*/, "", last)
	         pkg = substr(head, 1, length(head) - length(part[n])) last }
	  sum[pkg] += size; total += size }
	END { for (p in sum) printf "%10d %5.1f%%  %s\n", sum[p], 100 * sum[p] / total, p
	      printf "%10d 100.0%%  all symbols in the file\n", total }' "$tmp/nm" "$tmp/nm" | sort -rn | head -25
}

case ${1:-} in
check) check "$2" "$3" ;;
report) report "$2" ;;
*) echo "usage: size.sh check DIST BUDGET | report PROFILE" >&2; exit 2 ;;
esac
