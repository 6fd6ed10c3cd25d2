#!/bin/sh
# size.sh: sizes of the board builds, and what costs the bytes.
#
#   size.sh check DIST BUDGET XZBUDGET
#                              print the size of DIST/ferry-<profile> for every
#                              boards/*.env, and of the mips and mipsle builds
#                              also their size compressed with xz -9e (what
#                              an OpenWrt squashfs holds); exit 1 if one of
#                              those is over BUDGET bytes or over XZBUDGET
#                              bytes compressed
#   size.sh features PROFILE   build PROFILE with and without each feature of
#                              boards/features.txt (its build tag leaves it
#                              out) and print what each feature costs
#   size.sh linked PROFILE     exit 1 if the PROFILE build links a package or
#                              a function that the size budget keeps out
#                              (docs/BOARDS.md, "Size")
#   size.sh report PROFILE     build PROFILE unstripped and sum the symbol sizes
#                              per package, largest first
#
# Run from the repository root; GO and VERSION come from the environment.
set -eu
GO=${GO:-go}

# load PROFILE: set GOOS, GOARCH, GOARM, GOMIPS and TAGS from boards/PROFILE.env.
load() {
	unset GOOS GOARCH GOARM GOMIPS GOEXPERIMENT TAGS INLINE_ONLY LDEXTRA
	set -a
	# shellcheck source=/dev/null
	. "./boards/$1.env"
	set +a
}

# xzsize FILE: FILE's size compressed as the issue's budget counts it.
xzsize() {
	command -v xz >/dev/null || { echo "size: xz is missing (Debian: apt-get install xz-utils)" >&2; exit 1; }
	xz -9e -c "$1" | wc -c
}

check() {
	dist=$1 budget=$2 xzbudget=$3 over=
	printf '%-30s %10s %8s %10s  %s\n' binary bytes MiB xz target
	for env in boards/*.env; do
		p=$(basename "$env" .env)
		target=$(load "$p"; echo "$GOOS/$GOARCH")
		f=$dist/ferry-$p
		case $target in windows/*) f=$f.exe ;; esac
		[ -f "$f" ] || { echo "size: $f is missing: run make boards" >&2; exit 1; }
		n=$(wc -c < "$f") z=-
		case $target in */mips*)
			z=$(xzsize "$f")
			[ "$n" -le "$budget" ] && [ "$z" -le "$xzbudget" ] || over="$over $p" ;;
		esac
		printf '%-30s %10d %8.2f %10s  %s\n' "$f" "$n" "$(awk -v n="$n" 'BEGIN { print n / 1048576 }')" "$z" "$target"
	done
	if [ -n "$over" ]; then
		echo "size: over the budget of $budget bytes or $xzbudget bytes xz-compressed:$over" >&2
		for p in $over; do report "$p"; done
		exit 1
	fi
}

# features PROFILE: what each feature of boards/features.txt costs in the
# PROFILE build. A feature the profile leaves out (its tag is in TAGS) is
# measured by building with it; one it has, by building without it. A tag
# that no file uses yet (a feature still to land) is listed as such.
features() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	ptags=$(load "$1"; echo "$TAGS")
	GO=$GO ./boards/build.sh "$1" "$tmp/base" "-s -w -buildid="
	base=$(wc -c < "$tmp/base") basez=$(xzsize "$tmp/base")
	echo "what each feature costs in the $1 build ($base bytes, $basez xz):"
	printf '%-12s %-20s %-9s %9s %9s\n' feature tag "in $1" bytes xz
	grep -v '^#' boards/features.txt | while read -r name tag _; do
		[ -n "$name" ] || continue
		if ! git grep -q -E "^//go:build .*\b$tag\b" -- '*.go'; then
			printf '%-12s %-20s %-9s %9s %9s\n' "$name" "$tag" - "not yet" -
			continue
		fi
		case ",$ptags," in
		*",$tag,"*) in=no other=$(echo ",$ptags," | sed "s/,$tag,/,/; s/^,//; s/,$//") ;;
		*) in=yes other=$ptags,$tag ;;
		esac
		GO=$GO ./boards/build.sh "$1" "$tmp/other" "-s -w -buildid=" "$other"
		n=$(wc -c < "$tmp/other") z=$(xzsize "$tmp/other")
		if [ $in = yes ]; then n=$((base - n)) z=$((basez - z)); else n=$((n - base)) z=$((z - basez)); fi
		printf '%-12s %-20s %-9s %9d %9d\n' "$name" "$tag" "$in" "$n" "$z"
	done
}

# Packages and functions the router builds must not link, and why.
# Packages: reflection-driven encoders and regexp are hundreds of KB each.
# Functions: errors.As links internal/reflectlite's assignability checks
# (errors.AsType does the same without); sort.Slice a second pdqsort and
# reflectlite.Swapper (sort.Sort's code is linked anyway); a call of
# reflect.Value.Method or MethodByName makes the linker keep every
# exported method of every type.
keepout_packages="regexp text/template html/template encoding/json encoding/xml encoding/gob log/slog net/http"
keepout_funcs="errors.As sort.Slice sort.SliceStable reflect.Value.Method reflect.Value.MethodByName"

# linked PROFILE: fails if the build links one of the above.
linked() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	deps=$(load "$1"; GOFLAGS=-tags=$TAGS "$GO" list -deps .)
	GO=$GO ./boards/build.sh "$1" "$tmp/ferry" "-w"
	"$GO" tool nm "$tmp/ferry" | awk '{ print $NF }' > "$tmp/syms"
	bad=
	for p in $keepout_packages; do
		if echo "$deps" | grep -qx "$p"; then bad="$bad package:$p"; fi
	done
	for f in $keepout_funcs; do
		if grep -qxF "$f" "$tmp/syms"; then bad="$bad func:$f"; fi
	done
	if [ -n "$bad" ]; then
		echo "size: the $1 build links what the size budget keeps out (boards/size.sh, docs/BOARDS.md):$bad" >&2
		exit 1
	fi
	echo "size: the $1 build links none of: $keepout_packages $keepout_funcs"
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
check) check "$2" "$3" "$4" ;;
features) features "$2" ;;
linked) linked "$2" ;;
report) report "$2" ;;
*) echo "usage: size.sh check DIST BUDGET XZBUDGET | features PROFILE | linked PROFILE | report PROFILE" >&2; exit 2 ;;
esac
