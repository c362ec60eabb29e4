# shellcheck shell=bash
# record-lib.sh holds what the capture recording scripts of testdata/
# (record.sh, record-veth.sh, record-services.sh, record-xmpp.sh) share, so the
# code that checks the tools, enters a network namespace of their own, stops
# their processes and writes the capture is written once. It is not run by
# itself: each script sources it right after `set -euo pipefail`, as
#
#	here=$(cd "$(dirname "$0")" && pwd)
#	. "$here/record-lib.sh"
#
# and calls the functions below; every message begins with the name of the
# script that was run.
#
# The scripts run twice: first as started (record_need, record_unshare check
# the tools and root and re-run the script inside `unshare --net`), then
# inside the namespace, where NETCAP_RECORD_IN_NS=1 (record_in_ns) and
# record_setup makes $tmp and the cleanup that stops every pid in pids.

# Debian keeps the servers and ip, ss in sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

me=${0##*/}
missing=()

# record_in_ns: true in the second run, inside the namespace.
record_in_ns() {
	[ "${NETCAP_RECORD_IN_NS:-}" = 1 ]
}

# record_out FILE: prints FILE as an absolute path, for it is written after the
# script has left the folder it was started in (cp from $tmp).
record_out() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$PWD/$1" ;;
	esac
}

# record_need TOOL...: adds each TOOL that is not on the PATH to missing.
record_need() {
	local tool
	for tool; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
}

# record_missing PACKAGE...: if anything is missing, says so with the Debian
# packages to install and exits 2.
record_missing() {
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "$me: missing: ${missing[*]}" >&2
	echo "  apt-get install -y $*" >&2
	exit 2
}

# record_unshare WHY OUT: exits 2 unless root (WHY says what for), else runs
# the script again, with OUT, inside a new network namespace.
# tcpdump drops privileges to its own user, which a user namespace cannot
# map, so a real root is needed for the network namespace.
record_unshare() {
	if [ "$(id -u)" != 0 ]; then
		echo "$me: run it as root (sudo $0): $1" >&2
		exit 2
	fi
	export NETCAP_RECORD_IN_NS=1
	exec unshare --net -- bash "$0" "$2"
}

# record_setup: makes the temporary folder $tmp and the trap that, however the
# script ends, stops every process in pids (and waits for it), runs the
# script's record_on_exit if it has one, and removes $tmp.
record_setup() {
	tmp=$(mktemp -d)
	pids=()
	trap record_cleanup EXIT
	trap 'exit 130' INT TERM
}

record_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$(type -t record_on_exit)" = function ]; then
		record_on_exit || true
	fi
	rm -rf "$tmp"
}

# wait_port tcp|udp ADDR PORT: waits until a socket listens there (no traffic
# is sent, so the capture does not see the wait); exits with the server logs
# after 5 s.
wait_port() {
	local flag=-ltn
	[ "$1" = udp ] && flag=-lun
	for _ in $(seq 100); do
		if ss -H "$flag" "src $2:$3" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.05
	done
	echo "$me: nothing listens on $1 $2:$3; server logs:" >&2
	tail -n 20 "$tmp"/*.log >&2
	exit 1
}

# step prints what happens and runs it with no input, for at most 20 s (a
# function of the script bounds itself); a failing client (a refused
# connection or login, a 404) does not stop the script, its exit status is
# shown. The output goes to $tmp/clients.log.
step() {
	echo "+ $*" >&2
	local run=(timeout 20)
	[ "$(type -t "$1")" = function ] && run=()
	"${run[@]}" "$@" >>"$tmp/clients.log" 2>&1 </dev/null || echo "  (exit $?)" >&2
}

# record_start IFACE: starts tcpdump on IFACE, writing $tmp/capture.pcap, and
# waits until it listens.
record_start() {
	tcpdump -i "$1" -s 262144 -n -U --immediate-mode -Z root -w "$tmp/capture.pcap" 2>"$tmp/tcpdump.log" &
	tcpdump_pid=$!
	pids+=("$tcpdump_pid")
	for _ in $(seq 100); do
		grep -qs 'listening on' "$tmp/tcpdump.log" && break
		sleep 0.05
	done
	grep -qs 'listening on' "$tmp/tcpdump.log" || {
		cat "$tmp/tcpdump.log" >&2
		exit 1
	}
}

# record_stop SECONDS OUT: lets the last packets in for SECONDS, stops tcpdump
# and copies the capture to OUT, owned by the user who ran sudo.
record_stop() {
	sleep "$1"
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid" 2>/dev/null || true
	cat "$tmp/tcpdump.log" >&2

	mkdir -p "$(dirname "$2")"
	cp "$tmp/capture.pcap" "$2"
	if [ -n "${SUDO_UID:-}" ]; then
		chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$2"
	fi
	echo "$me: wrote $2 ($(wc -c <"$2") bytes)" >&2
}
