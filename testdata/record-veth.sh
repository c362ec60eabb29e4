#!/usr/bin/env bash
# record-veth.sh records netcap's second example capture, veth.pcap: what the
# Linux kernel and real programs put on an Ethernet link between two hosts
# with their own MAC addresses (a veth pair between two network namespaces):
# IPv6 neighbor and router discovery, MLD and IGMP, ARP, DHCPv4 (busybox
# udhcpc -> dnsmasq), ICMP echo with IPv4 and IPv6 fragments (ping -s), and a
# VXLAN tunnel over the link (ARP and ping inside).
#
# Usage: testdata/record-veth.sh [OUT.pcap]     (default: testdata/veth.pcap)
#
# Run it as root: the script runs in a fresh network namespace (unshare --net)
# and starts the second host in another one, so the capture holds only its
# traffic, no interface of the machine is touched, and nothing leaves it.
# Every process is stopped and every temporary file removed before it returns.
#
# Needs (Debian): tcpdump dnsmasq-base busybox iputils-ping iproute2 util-linux.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=record-lib.sh
. "$here/record-lib.sh"
out=$(record_out "${1:-$here/veth.pcap}")

if ! record_in_ns; then
	record_need tcpdump dnsmasq busybox ping ip unshare nsenter
	record_missing tcpdump dnsmasq-base busybox iputils-ping iproute2 util-linux
	record_unshare "it builds a link between two network namespaces of its own" "$out"
fi

# ---- from here on: host A, inside its private network namespace ----

record_setup

# Host B: a second network namespace, kept alive by a sleeping process; it
# ends with that process.
unshare --net -- sleep 600 &
peer=$!
pids+=("$peer")
for _ in $(seq 100); do
	[ "$(readlink /proc/$peer/ns/net)" != "$(readlink /proc/$$/ns/net)" ] && break
	sleep 0.02
done
inb() { nsenter --target "$peer" --net -- "$@"; }

ip link set lo up
ip link add va address 02:00:00:00:00:0a type veth peer name vb address 02:00:00:00:00:0b
ip link set vb netns "$peer"
inb ip link set lo up
ip addr add 10.0.0.1/24 dev va
ip -6 addr add fd00::a/64 dev va
inb ip addr add 10.0.0.2/24 dev vb
inb ip -6 addr add fd00::b/64 dev vb
# A is a host that listens to router advertisements; B routes.
sysctl -qw net.ipv6.conf.va.accept_ra=2
inb sysctl -qw net.ipv6.conf.all.forwarding=1

# A's side is up but has no carrier until B's side comes up, so tcpdump can
# open it before the first packet.
ip link set va up
record_start va

# B: DHCPv4 server and IPv6 router advertisements (dnsmasq), started before
# the link comes up so A's router solicitation is answered. nsenter execs
# dnsmasq in its own process, so $! is dnsmasq's process (inb would leave a
# subshell in between, and killing it would not stop dnsmasq).
nsenter --target "$peer" --net -- dnsmasq --no-daemon --log-facility=- --conf-file=/dev/null --pid-file= --port=0 \
	--interface=vb --bind-interfaces --dhcp-authoritative --no-ping --dhcp-leasefile="$tmp/leases" \
	--dhcp-range=10.0.0.100,10.0.0.110,255.255.255.0,10m \
	--dhcp-range=fd00::,ra-only,64,10m --enable-ra \
	>"$tmp/dnsmasq.log" 2>&1 &
pids+=($!)

# Carrier: duplicate address detection, MLD reports and router solicitation
# start on both sides.
echo "+ link up" >&2
inb ip link set vb up
# wait until no address is tentative on either side (DAD done)
for _ in $(seq 100); do
	if [ -z "$(ip -6 addr show dev va tentative)" ] && [ -z "$(inb ip -6 addr show dev vb tentative)" ]; then
		break
	fi
	sleep 0.05
done
sleep 0.5

# DHCPv4: discover, offer, request, ack (the lease is not configured: -s true)
step busybox udhcpc -i va -f -q -n -t 3 -T 1 -s /bin/true -x hostname:netcap-a

# ARP, ICMPv4 echo; ICMPv6 echo after neighbor solicitation
step ping -c 2 -i 0.2 10.0.0.2
step ping -6 -c 2 -i 0.2 fd00::b
# fragmented echo requests and replies (MTU 1500)
step ping -c 1 -s 2000 10.0.0.2
step ping -6 -c 1 -s 2000 fd00::b

# VXLAN (VNI 42, UDP 4789) over the link, and one with a multicast group,
# whose join sends an IGMP report
ip link add vx0 address 02:00:00:00:42:0a type vxlan id 42 local 10.0.0.1 remote 10.0.0.2 dstport 4789 dev va
inb ip link add vx0 address 02:00:00:00:42:0b type vxlan id 42 local 10.0.0.2 remote 10.0.0.1 dstport 4789 dev vb
sysctl -qw net.ipv6.conf.vx0.disable_ipv6=1
inb sysctl -qw net.ipv6.conf.vx0.disable_ipv6=1
ip addr add 192.168.42.1/24 dev vx0
inb ip addr add 192.168.42.2/24 dev vx0
inb ip link set vx0 up
ip link set vx0 up
step ping -c 2 -i 0.2 192.168.42.2
ip link add vx1 type vxlan id 43 group 239.1.1.43 dstport 4789 dev va
sysctl -qw net.ipv6.conf.vx1.disable_ipv6=1
ip link set vx1 up

record_stop 0.5 "$out"
