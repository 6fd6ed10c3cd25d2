#!/bin/sh
# build.sh PROFILE OUT [LDFLAGS [TAGS]]: build ferry for boards/PROFILE.env
# into OUT; TAGS, if given, instead of the profile's (boards/size.sh
# measures features so).
#
# A profile sets GOOS, GOARCH, GOARM, GOMIPS and TAGS, and may set
#   INLINE_ONLY  packages (go list patterns) that keep inlining; every other
#                package is compiled with -l. The routers' size budget.
#   LDEXTRA      more linker flags (the routers: -R 0x1000, 4 KiB pages).
# Everything the profile does not set is unset first, so that the caller's
# environment cannot leak in. Run from the repository root; GO from the
# environment.
set -eu
[ $# -ge 2 ] || { echo "usage: build.sh PROFILE OUT [LDFLAGS [TAGS]]" >&2; exit 2; }
profile=$1 out=$2 ldflags=${3:-} tags=${4:-}
unset GOOS GOARCH GOARM GOMIPS GOEXPERIMENT TAGS INLINE_ONLY LDEXTRA
set -a
# shellcheck source=/dev/null
. "./boards/$profile.env"
set +a
set -- -trimpath -tags "${tags:-$TAGS}"
if [ -n "${INLINE_ONLY:-}" ]; then
	set -- "$@" -gcflags=all=-l
	for p in $INLINE_ONLY; do set -- "$@" "-gcflags=$p="; done
fi
CGO_ENABLED=0 exec "${GO:-go}" build "$@" -ldflags "$ldflags ${LDEXTRA:-}" -o "$out" .
