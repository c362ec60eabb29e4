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

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=record-lib.sh
. "$here/record-lib.sh"
out=$(record_out "${1:-$here/xmpp.pcap}")
py=/usr/bin/python3

if ! record_in_ns; then
	record_need tcpdump openssl prosody "$py" ip ss unshare
	record_missing tcpdump openssl prosody python3 iproute2 util-linux
	record_unshare "it captures in a network namespace of its own" "$out"
fi

# ---- from here on: inside the private network namespace, as its root ----

record_on_exit() {
	[ -n "${NETCAP_RECORD_DEBUG:-}" ] && tail -n 30 "$tmp"/clients.log "$tmp"/prosody.log >&2
}
record_setup
chmod 755 "$tmp"
ip link set lo up

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
wait_port tcp 127.0.0.1 5222

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
record_start lo

# STARTTLS accepted: stream header to xmpp.example.test, features, <starttls/>,
# <proceed/>, then a TLS handshake with SNI xmpp.example.test; the client
# closes when its input ends
step openssl s_client -brief -starttls xmpp -xmpphost xmpp.example.test -servername xmpp.example.test \
	-connect 127.0.0.1:5222
# STARTTLS refused: the host has no certificate
step "$py" "$tmp/client.py" plain.example.test starttls
# no upgrade: the client closes its stream after the features
step "$py" "$tmp/client.py" xmpp.example.test close

record_stop 0.3 "$out"
