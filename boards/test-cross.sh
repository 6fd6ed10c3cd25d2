#!/bin/sh
# test-cross.sh: build the test binary of every package that has tests for
# arm (GOARM=6), arm64, mips and mipsle (GOMIPS=softfloat, as the routers),
# and run each under qemu-user with -test.short, from its package directory
# as "go test" would. JOBS binaries run at a time; a failing one prints its
# output and fails the whole run, after the others have run.
#
# The qemu binaries are called by name: a container seldom has binfmt_misc
# registered. A missing qemu is an error, never a skip.
#
# Environment: GO (default go), ARCHES (default "arm arm64 mips mipsle"),
# JOBS (default: the number of CPUs), TIMEOUT per test binary (default 2m:
# the slowest package takes 45 s under emulation, and a hang must not eat the
# whole CI budget).
# Run from the repository root.
set -eu
GO=${GO:-go}
ARCHES=${ARCHES:-arm arm64 mips mipsle}
JOBS=${JOBS:-$(getconf _NPROCESSORS_ONLN)}
TIMEOUT=${TIMEOUT:-2m}

# qemu ARCH: the path of the qemu-user binary for a GOARCH.
qemu() {
	case $1 in
	arm) q=arm ;; arm64) q=aarch64 ;; mips) q=mips ;; mipsle) q=mipsel ;;
	*) echo "test-cross: no qemu for GOARCH $1" >&2; return 1 ;;
	esac
	command -v "qemu-$q-static" || command -v "qemu-$q" || {
		echo "test-cross: qemu-$q-static not found: apt-get install qemu-user-static" >&2
		return 1
	}
}

# run1 ARCH PKG PKGDIR BINDIR: run one test binary, print a line and, if it
# failed, its output; exit 1 on failure (xargs goes on with the others).
run1() {
	bin=$4/$1/$(basename "$2").test
	start=$(date +%s)
	if (cd "$3" && "$(qemu "$1")" "$bin" -test.short -test.timeout="$TIMEOUT" >"$bin.log" 2>&1); then
		printf 'ok   %-7s %-24s %4ds\n' "$1" "$2" $(($(date +%s) - start))
		return 0
	fi
	cat "$bin.log"
	printf 'FAIL %-7s %-24s %4ds\n' "$1" "$2" $(($(date +%s) - start))
	return 1
}

if [ "${1:-}" = run1 ]; then
	shift
	run1 "$@"
	exit
fi

for arch in $ARCHES; do qemu "$arch" >/dev/null; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' ./... > "$tmp/pkgs"
for arch in $ARCHES; do
	echo "test-cross: building the tests for linux/$arch"
	# shellcheck disable=SC2046 # one argument per import path
	GOOS=linux GOARCH=$arch GOARM=6 GOMIPS=softfloat CGO_ENABLED=0 \
		"$GO" test -c -o "$tmp/$arch/" $(cut -d' ' -f1 "$tmp/pkgs")
	sed "s|^|$arch |; s|\$| $tmp|" "$tmp/pkgs" >> "$tmp/runs"
done
echo "test-cross: running them under qemu, $JOBS at a time"
if ! xargs -P "$JOBS" -L 1 "$0" run1 < "$tmp/runs"; then
	echo "test-cross: some tests failed under emulation (FAIL lines above)" >&2
	exit 1
fi
echo "test-cross: every package passes on $ARCHES"
