#!/usr/bin/env bash
# record.sh records netcap's own example capture: real programs (curl, openssl,
# dig, ntpdig, ping) talking to servers (python3 http.server, openssl s_server,
# dnsmasq, chronyd) that this script starts on 127.0.0.1 and ::1, captured with
# tcpdump on the loopback interface.
#
# Usage: testdata/record.sh [OUT.pcap]      (default: testdata/loopback.pcap)
#
# Run it as root: everything runs inside a fresh network namespace
# (unshare --net), so the capture holds only this script's traffic, no port of
# the host is used and nothing can leak off the machine.
# Every server is stopped and every temporary file removed before it returns.
#
# Needs (Debian): tcpdump curl openssl bind9-dnsutils dnsmasq-base chrony
# ntpsec-ntpdig iputils-ping iproute2 util-linux, and python3 >= 3.11.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=record-lib.sh
. "$here/record-lib.sh"
out=$(record_out "${1:-$here/loopback.pcap}")

if ! record_in_ns; then
	record_need tcpdump curl openssl dig dnsmasq chronyd ntpdig ping python3 ip ss unshare
	record_missing tcpdump curl openssl bind9-dnsutils dnsmasq-base chrony ntpsec-ntpdig iputils-ping iproute2 util-linux
	if ! python3 -m http.server --help 2>/dev/null | grep -q -- --protocol; then
		echo "$me: python3 is too old: http.server needs --protocol (Python >= 3.11)" >&2
		exit 2
	fi
	record_unshare "it captures in a network namespace of its own" "$out"
fi

# ---- from here on: inside the private network namespace, as its root ----

record_setup
ip link set lo up

# --- content the servers give out ---
mkdir -p "$tmp/www"
printf '<!doctype html>\n<title>netcap test page</title>\n<p>hello from netcap testdata</p>\n' >"$tmp/www/index.html"
printf 'first file of the keep-alive pair\n' >"$tmp/www/a.txt"
printf 'second file of the keep-alive pair\n' >"$tmp/www/b.txt"

# --- throwaway TLS key and self-signed certificate ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=www.example.test -addext subjectAltName=DNS:www.example.test \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

# --- servers ---
python3 -m http.server --protocol HTTP/1.1 -b 127.0.0.1 -d "$tmp/www" 8080 >"$tmp/http4.log" 2>&1 &
pids+=($!)
python3 -m http.server --protocol HTTP/1.1 -b ::1 -d "$tmp/www" 8080 >"$tmp/http6.log" 2>&1 &
pids+=($!)

openssl s_server -www -accept 127.0.0.1:8443 -cert "$tmp/cert.pem" -key "$tmp/key.pem" >"$tmp/tls.log" 2>&1 &
pids+=($!)

dnsmasq --no-daemon --log-facility=- --conf-file=/dev/null --pid-file= \
	--no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 --listen-address=::1 --port=53 \
	--local=/example.test/ \
	--host-record=www.example.test,127.0.0.1,::1 \
	--mx-host=example.test,mail.example.test,10 \
	--host-record=mail.example.test,127.0.0.1 \
	--txt-record=example.test,"v=spf1 -all" \
	>"$tmp/dns.log" 2>&1 &
pids+=($!)

cat >"$tmp/chrony.conf" <<EOF
local stratum 8
allow 127.0.0.1
allow ::1
bindaddress 127.0.0.1
bindaddress ::1
port 123
cmdport 0
bindcmdaddress /
pidfile $tmp/chronyd.pid
driftfile $tmp/chrony.drift
EOF
chronyd -d -x -u root -f "$tmp/chrony.conf" >"$tmp/ntp.log" 2>&1 &
pids+=($!)

wait_port tcp 127.0.0.1 8080
wait_port tcp '[::1]' 8080
wait_port tcp 127.0.0.1 8443
wait_port udp 127.0.0.1 53
wait_port udp '[::1]' 53
wait_port tcp 127.0.0.1 53
wait_port udp 127.0.0.1 123
wait_port udp '[::1]' 123

# --- capture ---
record_start lo

# ICMPv4 and ICMPv6 echo
step ping -c 3 -i 0.2 127.0.0.1
step ping -6 -c 3 -i 0.2 ::1

# DNS over UDP (IPv4 and IPv6) and TCP
dig=(dig +nocookie +tries=1 +timeout=2)
step "${dig[@]}" @127.0.0.1 www.example.test A
step "${dig[@]}" @127.0.0.1 www.example.test AAAA
step "${dig[@]}" @127.0.0.1 example.test MX
step "${dig[@]}" @127.0.0.1 example.test TXT
step "${dig[@]}" @127.0.0.1 nosuch.example.test A
step "${dig[@]}" @::1 www.example.test AAAA
step "${dig[@]}" +tcp @127.0.0.1 www.example.test A

# NTP client/server exchange
step ntpdig -t 2 127.0.0.1
step ntpdig -t 2 ::1

# HTTP/1.1 over IPv4 and IPv6
curl=(curl -sS --http1.1 -o /dev/null)
step "${curl[@]}" http://127.0.0.1:8080/
# two URLs in one call: curl keeps the connection alive (one -o per URL)
step "${curl[@]}" -o /dev/null http://127.0.0.1:8080/a.txt http://127.0.0.1:8080/b.txt
step "${curl[@]}" http://127.0.0.1:8080/missing.html
step "${curl[@]}" -d 'name=netcap&kind=test' http://127.0.0.1:8080/form
step "${curl[@]}" -A 'netcap-testdata/1.0' 'http://[::1]:8080/a.txt'

# HTTPS: TLS 1.2 and 1.3 with SNI, through curl and openssl s_client
https=(curl -sS -o /dev/null --cacert "$tmp/cert.pem" --resolve www.example.test:8443:127.0.0.1)
step "${https[@]}" --tlsv1.2 --tls-max 1.2 https://www.example.test:8443/
step "${https[@]}" --tlsv1.3 https://www.example.test:8443/
step openssl s_client -connect 127.0.0.1:8443 -servername www.example.test -tls1_2 -CAfile "$tmp/cert.pem" </dev/null
step openssl s_client -connect 127.0.0.1:8443 -servername www.example.test -tls1_3 -CAfile "$tmp/cert.pem" </dev/null

# refused connections: TCP RST, ICMPv4 and ICMPv6 port unreachable
step curl -sS --max-time 2 http://127.0.0.1:9/
step "${dig[@]}" -p 9 @127.0.0.1 www.example.test A
step "${dig[@]}" -p 9 @::1 www.example.test A

record_stop 0.3 "$out"
