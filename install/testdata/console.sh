#!/bin/sh
# console.sh [login]: a console as a serial port shows it: boot noise,
# OpenWrt's "Please press Enter to activate this console.", and with
# "login" a login prompt and a password prompt (without echo, as login(1)
# does), before an interactive busybox ash. For the busybox tests of
# package install: the user is "root", the password "s3cret". BB is the
# busybox binary.
echo "U-Boot 2023.01 (Jan 01 2023 - 00:00:00 +0000)"
echo "[    0.000000] Linux version 5.15.134 (builder@buildhost) #0 SMP"
echo "[    1.234567] usb 1-1: new high-speed USB device number 2"
printf 'Please press Enter to activate this console. '
read -r _
if [ "${1:-}" = login ]; then
	while :; do
		printf '\nOpenWrt login: '
		read -r user
		[ -n "$user" ] || continue # as login(1): an empty name asks again
		printf 'Password: '
		[ -x /bin/stty ] && /bin/stty -echo
		read -r pw
		[ -x /bin/stty ] && /bin/stty echo
		echo
		[ "$user" = root ] && [ "$pw" = s3cret ] && break
		echo "Login incorrect"
	done
fi
echo
echo "BusyBox v1.36.1 (2023-10-09) built-in shell (ash)"
exec "$BB" ash
