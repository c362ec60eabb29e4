#!/usr/bin/env bash
# record-xmpp.sh records netcap's XMPP capture: client streams to a real
# XMPP server (Debian's prosody) on 127.0.0.1, port 5222: one that asks for
# STARTTLS and gets TLS (openssl s_client -starttls xmpp), one to a host
# without a certificate, whose STARTTLS the server refuses with <failure/>,
# and one that reads the stream features and closes without upgrading.
#
# Usage: testdata/record-xmpp.sh [OUT.pcap]   (default: testdata/xmpp.pcap)
#
# Run it as root: everything runs inside a fresh network namespace
# (unshare --net), so the capture holds only this script's traffic, no port of
# the host is used and nothing can leak off the machine. The server is
# stopped and every temporary file removed before it returns.
#
# Needs (Debian 12): tcpdump openssl prosody python3 iproute2 util-linux.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/xmpp.pcap}
case $out in /*) ;; *) out=$PWD/$out ;; esac
py=/usr/bin/python3

if [ "${NETCAP_RECORD_IN_NS:-}" != 1 ]; then
	missing=()
	for tool in tcpdump openssl prosody "$py" ip ss unshare; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "record-xmpp.sh: missing: ${missing[*]}" >&2
		echo "  apt-get install -y tcpdump openssl prosody python3 iproute2 util-linux" >&2
		exit 2
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "record-xmpp.sh: run it as root (sudo $0): it captures in a network namespace of its own" >&2
		exit 2
	fi
	export NETCAP_RECORD_IN_NS=1
	exec unshare --net -- bash "$0" "$out"
fi

# ---- from here on: inside the private network namespace, as its root ----

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	[ -n "${NETCAP_RECORD_DEBUG:-}" ] && tail -n 30 "$tmp"/clients.log "$tmp"/prosody.log >&2
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link set lo up

# wait_port ADDR PORT: wait until a TCP socket listens there (no traffic sent).
wait_port() {
	for _ in $(seq 100); do
		if ss -H -ltn "src $1:$2" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.05
	done
	echo "record-xmpp.sh: nothing listens on $1:$2; server log:" >&2
	tail -n 20 "$tmp"/*.log >&2
	exit 1
}

# step prints what happens and runs it, for at most 20 s; a failing client
# (a refused STARTTLS) does not stop the script.
step() {
	echo "+ $*" >&2
	timeout 20 "$@" >>"$tmp/clients.log" 2>&1 </dev/null || echo "  (exit $?)" >&2
}

# --- throwaway TLS key and self-signed certificate for xmpp.example.test ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=xmpp.example.test -addext subjectAltName=DNS:xmpp.example.test \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

# --- prosody: xmpp.example.test offers STARTTLS (required); plain.example.test
# has no TLS context, so it offers none and answers STARTTLS with <failure/> ---
mkdir -p "$tmp/data" "$tmp/nocerts"
cat >"$tmp/prosody.cfg.lua" <<EOF
run_as_root = true
daemonize = false
pidfile = "$tmp/prosody.pid"
data_path = "$tmp/data"
certificates = "$tmp/nocerts"
log = { info = "$tmp/prosody.log" }
interfaces = { "127.0.0.1" }
c2s_ports = { 5222 }
c2s_direct_tls_ports = {}
s2s_ports = {}
http_ports = {}
https_ports = {}
modules_enabled = { "tls", "saslauth", "disco", "ping" }
modules_disabled = { "s2s" }
c2s_require_encryption = true
authentication = "internal_plain"
VirtualHost "xmpp.example.test"
	ssl = { key = "$tmp/key.pem"; certificate = "$tmp/cert.pem" }
VirtualHost "plain.example.test"
	-- Files that do not exist: no TLS context for the host (prosody would
	-- otherwise pick a certificate by SNI).
	ssl = { key = "$tmp/none/key.pem"; certificate = "$tmp/none/cert.pem" }
	-- Logins in the clear, so that its features are not empty.
	c2s_require_encryption = false
	allow_unencrypted_plain_auth = true
EOF
prosody --config "$tmp/prosody.cfg.lua" >"$tmp/prosody-out.log" 2>&1 &
pids+=($!)
wait_port 127.0.0.1 5222

# --- a client of the script's own, for the sessions openssl s_client cannot
# make: it opens a stream to HOST, reads the features and then either sends
# <starttls/> whatever was offered and reads the answer, or closes ---
cat >"$tmp/client.py" <<'EOF'
import socket, sys
host, action = sys.argv[1], sys.argv[2]
s = socket.create_connection(("127.0.0.1", 5222), timeout=10)
s.sendall(("<?xml version='1.0'?><stream:stream to='%s' version='1.0' xmlns='jabber:client' "
           "xmlns:stream='http://etherx.jabber.org/streams'>" % host).encode())
got = b""
while b"</stream:features>" not in got:
    b = s.recv(4096)
    if not b:
        sys.exit("closed before the features")
    got += b
print(got.decode())
if action == "starttls":
    s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
else:
    s.sendall(b"</stream:stream>")
while True:
    b = s.recv(4096)
    if not b:
        break
    print(b.decode())
s.close()
EOF

# --- capture ---
tcpdump -i lo -s 262144 -n -U --immediate-mode -Z root -w "$tmp/capture.pcap" 2>"$tmp/tcpdump.log" &
tcpdump_pid=$!
pids+=("$tcpdump_pid")
for _ in $(seq 100); do
	grep -qs 'listening on' "$tmp/tcpdump.log" && break
	sleep 0.05
done
grep -q 'listening on' "$tmp/tcpdump.log" || { cat "$tmp/tcpdump.log" >&2; exit 1; }

# STARTTLS accepted: stream header to xmpp.example.test, features, <starttls/>,
# <proceed/>, then a TLS handshake with SNI xmpp.example.test; the client
# closes when its input ends
step openssl s_client -brief -starttls xmpp -xmpphost xmpp.example.test -servername xmpp.example.test \
	-connect 127.0.0.1:5222
# STARTTLS refused: the host has no certificate
step "$py" "$tmp/client.py" plain.example.test starttls
# no upgrade: the client closes its stream after the features
step "$py" "$tmp/client.py" xmpp.example.test close

sleep 0.3
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null || true
cat "$tmp/tcpdump.log" >&2

mkdir -p "$(dirname "$out")"
cp "$tmp/capture.pcap" "$out"
if [ -n "${SUDO_UID:-}" ]; then
	chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$out"
fi
echo "record-xmpp.sh: wrote $out ($(wc -c <"$out") bytes)" >&2
