#!/bin/sh
# check-services.sh: check the service files without installing them.
#
#   - the OpenWrt init script: sh -n, shellcheck, and a run of start_service
#     against stubs of rc.common's UCI and procd functions, for a TCP and a
#     serial configuration;
#   - the systemd unit and its serial drop-in: systemd-analyze verify (with
#     /bin/true standing in for ferry) and the offline security score.
#
# Needs shellcheck and systemd-analyze (Debian: shellcheck, systemd); a
# missing tool is an error. Run from the repository root.
# shellcheck disable=SC2317 # the stubs below are called from the init script
set -eu
for tool in shellcheck systemd-analyze; do
	command -v "$tool" >/dev/null || { echo "check-services: $tool not found: apt-get install ${tool%%-*}" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

init=boards/openwrt/ferry.init
sh -n "$init"
shellcheck "$init" boards/*.sh

# procd_command UCI_ASSIGNMENTS...: the command line procd would run.
procd_command() {
	rm -f "$tmp/cmd"
	(
		for kv in "$@"; do eval "uci_${kv%%=*}=\${kv#*=}"; done
		config_load() { :; }
		config_foreach() { "$1" main; }
		config_get() { eval "$1=\${uci_$3-\$4}"; }
		config_get_bool() { config_get "$@"; }
		mkdir() { :; }
		chmod() { :; }
		chown() { :; }
		procd_open_instance() { :; }
		procd_close_instance() { :; }
		procd_set_param() { [ "$1" != command ] || { shift; echo "$*" >"$tmp/cmd"; }; }
		procd_append_param() { [ "$1" != command ] || { shift; sed -i "s|\$| $*|" "$tmp/cmd"; }; }
		# shellcheck source=/dev/null
		. "./$init"
		start_service
		cat "$tmp/cmd" 2>/dev/null || true
	)
}

# expect GOT WANT: fail unless the two command lines are equal.
expect() {
	[ "$1" = "$2" ] || { printf 'check-services: %s runs\n  %s\nwant\n  %s\n' "$init" "$1" "$2" >&2; exit 1; }
}
expect "$(procd_command enabled=1)" "/usr/bin/ferry serve -listen :7417 -data /srv/ferry"
expect "$(procd_command enabled=1 serial=/dev/ttyS0 baud=57600 memlimit=12MiB data=/mnt/sda1/f)" \
	"/usr/bin/ferry serve -serial /dev/ttyS0 -baud 57600 -data /mnt/sda1/f -memlimit 12MiB"
expect "$(procd_command enabled=0)" ""
echo "check-services: $init: ok"

mkdir -p "$tmp/units/ferry.service.d"
sed 's|/usr/local/bin/ferry|/bin/true|' boards/systemd/ferry.service >"$tmp/units/ferry.service"
SYSTEMD_UNIT_PATH=$tmp/units: systemd-analyze verify "$tmp/units/ferry.service"
SYSTEMD_UNIT_PATH=$tmp/units: systemd-analyze security --offline=true --threshold=20 ferry.service | tail -1
sed 's|/usr/local/bin/ferry|/bin/true|' boards/systemd/serial.conf >"$tmp/units/ferry.service.d/serial.conf"
SYSTEMD_UNIT_PATH=$tmp/units: systemd-analyze verify "$tmp/units/ferry.service"
SYSTEMD_UNIT_PATH=$tmp/units: systemd-analyze security --offline=true --threshold=20 ferry.service | tail -1
echo "check-services: boards/systemd: ok"
