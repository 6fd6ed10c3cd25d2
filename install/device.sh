# device.sh: the device side of "ferry install" (package install).
#
# The laptop types this file into the device's shell through the console,
# as a piece captured by sed, checks its sha256 and sources it; FYAWK (the
# decoder, decode.awk) is set in front of it. It needs only what stock
# OpenWrt's busybox has: sed, awk, printf, dd, df, grep, uname, gunzip,
# sha256sum, cat, chmod, mv, rm. Each function takes the laptop's command
# number N first, and every line it prints starts with "FY=N ": the laptop
# tells replies from the echo of what it types (its commands never contain
# "FY=", the data alphabet has no "=") and from replies to earlier commands.
# A reply ends with "FY=N end" or with a one-line result.
#
# Files, all beside the destination $F, for the transfer $ID (a hash of the
# compressed binary):
#   $F.fy-$ID.OFFSET-LEN.t   a piece as received, until it is decoded
#   $F.fy-$ID.OFFSET-LEN.b   a piece decoded; kept for a resumed install
#   $F.fy-new                the binary being put together
#   $F.fy.sh                 this file
# shellcheck shell=sh disable=SC2059,SC2154

# fyS N F ID: set the destination and the transfer.
fyS() {
	F=$2 ID=$3
	echo "FY=$1 set $F $ID"
}

# fyI N ELF...: what the device is: machine, byte order and word size of
# the first ELF file that exists, CPU features, OpenWrt's package
# architecture, the destination's folder and free KiB, and the sha256 of a
# file already at $F.
fyI() {
	fyN=$1
	shift
	wait
	echo "FY=$fyN m $(uname -m)"
	for fyE; do [ -f "$fyE" ] && break; done
	echo "FY=$fyN elf $(fyElf "$fyE")"
	echo "FY=$fyN cpu $(sed -n '/^[Ff]eatures/{s/^[^:]*: *//p;q}' /proc/cpuinfo 2>/dev/null)"
	echo "FY=$fyN arch $(sed -n "s/^DISTRIB_ARCH=//p" /etc/openwrt_release 2>/dev/null | tr -d "'\"")"
	fyD=${F%/*}
	[ -n "$fyD" ] || fyD=/
	if [ -d "$fyD" ] && [ -w "$fyD" ]; then
		echo "FY=$fyN dir ok"
	fi
	echo "FY=$fyN free $(df -Pk "$fyD/." 2>/dev/null | awk 'NR == 2 { print $4 }')"
	[ -f "$F" ] && echo "FY=$fyN have $(sha256sum <"$F")"
	echo "FY=$fyN end"
}

# fyL N FRESH: wait for the decoders; list the decoded pieces of this
# transfer with their sha256 (with FRESH=1 remove them instead); remove
# every other file of an install: other transfers', partial ones.
fyL() {
	wait
	for fyE in "$F".fy-*; do
		case $fyE in
		"$F.fy-$ID".*.b)
			if [ "$2" = 1 ]; then
				rm -f "$fyE"
			else
				echo "FY=$1 p ${fyE#"$F.fy-$ID".} $(sha256sum <"$fyE")"
			fi
			;;
		*) rm -f "$fyE" ;;
		esac
	done
	echo "FY=$1 end"
}

# fyQ N NAME: the sha256 of the piece NAME of this transfer, or "none".
fyQ() {
	if [ -f "$F.fy-$ID.$2" ]; then
		echo "FY=$1 $(sha256sum <"$F.fy-$ID.$2")"
	else
		echo "FY=$1 none"
	fi
}

# fyZ N NAME: remove the piece NAME of this transfer.
fyZ() {
	rm -f "$F.fy-$ID.$2"
	echo "FY=$1 ok"
}

# fyElf FILE: "le32", "be32", "le64" or "be64" from the ELF header of FILE.
fyElf() {
	[ "$(dd if="$1" bs=1 count=4 2>/dev/null)" = "$(printf '\177ELF')" ] || { echo none; return; }
	case $(dd if="$1" bs=1 skip=5 count=1 2>/dev/null) in
	"$(printf '\001')") printf le ;;
	"$(printf '\002')") printf be ;;
	*) printf '?' ;;
	esac
	case $(dd if="$1" bs=1 skip=4 count=1 2>/dev/null) in
	"$(printf '\001')") echo 32 ;;
	"$(printf '\002')") echo 64 ;;
	*) echo '?' ;;
	esac
}

# fyP N OFFSET LEN SHA: receive a piece, text lines up to a line "#E", into
# $F.fy-$ID.OFFSET-LEN.t; "ok" if its sha256 is SHA, and then decode it in
# the background; "bad" (removed) if not; "err" if it could not be written.
# Console signals (^C ^\ ^Z that line noise makes) do not stop the capture.
fyP() {
	fyT=$F.fy-$ID.$2-$3
	echo "FY=$1 ready"
	if ! (trap '' INT QUIT TSTP; exec sed -n '/^#E/q;s/^://p') >"$fyT.t"; then
		rm -f "$fyT.t"
		echo "FY=$1 err"
		return
	fi
	fyH=$(sha256sum <"$fyT.t")
	if [ "${fyH%% *}" != "$4" ]; then
		rm -f "$fyT.t"
		echo "FY=$1 bad"
		return
	fi
	fyB "$fyT" </dev/null >/dev/null 2>&1 &
	echo "FY=$1 ok"
}

# fyB T: decode T.t into T.b.
fyB() {
	printf "$(awk "$FYAWK" "$1.t")" >"$1.b.tmp" && mv -f "$1.b.tmp" "$1.b"
	rm -f "$1.t" "$1.b.tmp"
}

# fyJ N SHA: wait for the decoders, join the pieces, gunzip, check the
# sha256 and make the result $F, executable; "ok", else what failed.
fyJ() {
	wait
	if ! cat "$F.fy-$ID".*.b | gunzip >"$F.fy-new"; then
		rm -f "$F.fy-new"
		echo "FY=$1 gunzip"
		return
	fi
	fyH=$(sha256sum <"$F.fy-new")
	if [ "${fyH%% *}" != "$2" ]; then
		rm -f "$F.fy-new"
		echo "FY=$1 bad ${fyH%% *}"
		return
	fi
	if ! chmod 755 "$F.fy-new" || ! mv -f "$F.fy-new" "$F"; then
		rm -f "$F.fy-new"
		echo "FY=$1 err"
		return
	fi
	rm -f "$F.fy-$ID".*
	echo "FY=$1 ok"
}

# fyV N ARGS...: run the installed ferry with ARGS, input /dev/null; its
# output as "v" lines, then its exit code.
fyV() {
	fyN=$1
	shift
	"$F" "$@" </dev/null >"$F.fy-out" 2>&1
	fyC=$?
	sed "s/^/FY=$fyN v /" "$F.fy-out"
	rm -f "$F.fy-out"
	echo "FY=$fyN exit $fyC"
	echo "FY=$fyN end"
}

# fyX N KEEP: clean up: wait for the decoders, remove partial files (and
# with KEEP=0 the kept pieces too), give the shell back its prompts.
fyX() {
	wait
	rm -f "$F.fy-new" "$F.fy.sh" "$F.fy-$ID".*.t "$F.fy-$ID".*.tmp
	[ "$2" = 1 ] || rm -f "$F.fy-$ID".*
	PS1=$fyPS1 PS2=$fyPS2
	unset fyPS1 fyPS2
	echo "FY=$1 end"
}

# fyR N ARGS...: clean up, then give the console to "ferry serve ARGS",
# its log in $F.log.
fyR() {
	fyN=$1
	shift
	fyX "$fyN" 0 >/dev/null
	echo "FY=$fyN serve"
	"$F" serve "$@" 2>>"$F.log"
}
