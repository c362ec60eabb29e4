#!/usr/bin/env bash
# record-services.sh records netcap's third example capture: the application
# protocols an analyst meets, spoken by real servers and clients from Debian
# on 127.0.0.1: SSH (openssh), Telnet logins (inetutils telnetd, telnet),
# SMTP with AUTH and STARTTLS (aiosmtpd, curl),
# POP3 and IMAP, plain and after STARTTLS (dovecot, curl), FTP active and
# passive, download and upload (vsftpd, curl), HTTP files plain and gzip'd
# (nginx, curl) and HTTPS through an HTTP CONNECT proxy (tinyproxy,
# openssl s_server, curl).
#
# Usage: testdata/record-services.sh [OUT.pcap]   (default: testdata/services.pcap)
#
# Run it as root: everything runs inside a fresh network namespace
# (unshare --net), so the capture holds only this script's traffic, no port of
# the host is used and nothing can leak off the machine. Every server is
# stopped and every temporary file removed before it returns.
#
# Needs (Debian 12): tcpdump curl openssl openssh-server openssh-client
# inetutils-telnetd telnet socat python3-aiosmtpd dovecot-pop3d dovecot-imapd
# vsftpd nginx-light tinyproxy iproute2 util-linux.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=record-lib.sh
. "$here/record-lib.sh"
out=$(record_out "${1:-$here/services.pcap}")
# Debian's python3, which has python3-aiosmtpd, whatever python3 comes first
# on the PATH.
py=/usr/bin/python3

if ! record_in_ns; then
	record_need tcpdump curl openssl sshd ssh ssh-keygen telnetd telnet socat dovecot vsftpd nginx tinyproxy ip ss unshare
	"$py" -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
	record_missing tcpdump curl openssl openssh-server openssh-client inetutils-telnetd telnet socat python3-aiosmtpd \
		dovecot-pop3d dovecot-imapd vsftpd nginx-light tinyproxy iproute2 util-linux
	record_unshare "it captures in a network namespace of its own" "$out"
fi

# ---- from here on: inside the private network namespace, as its root ----

# dovecot runs as a daemon of its own, not among pids.
record_on_exit() {
	if [ -f "$tmp/dovecot.conf" ]; then
		dovecot -c "$tmp/dovecot.conf" stop 2>/dev/null || true
	fi
	[ -n "${NETCAP_RECORD_DEBUG:-}" ] && tail -n 20 "$tmp"/clients.log "$tmp"/smtpd.log >&2
}
record_setup
chmod 755 "$tmp" # the servers' unprivileged processes read below it
ip link set lo up

# --- throwaway TLS key and self-signed certificate ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=mail.example.test -addext subjectAltName=DNS:mail.example.test,DNS:www.example.test \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
chmod 644 "$tmp/key.pem"

# --- a mail with an attachment: sent by SMTP, kept in the mailbox POP3 and
# IMAP read ---
cat >"$tmp/mail.eml" <<'EOF'
From: Alice <alice@example.test>
To: Bob <bob@example.test>
Cc: carol@example.test
Subject: quarterly report
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <report-1@example.test>
User-Agent: netcap-testdata/1.0
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Hello Bob, the report is attached.

--b1
Content-Type: text/csv; name="report.csv"
Content-Disposition: attachment; filename="report.csv"
Content-Transfer-Encoding: base64

cXVhcnRlcixyZXZlbnVlCjEsMTAwCjIsMTIwCjMsOTAKNCwxNTAK

--b1--
EOF
# Mail travels with CRLF line ends (RFC 5322), as a mail client sends it.
sed -i 's/$/\r/' "$tmp/mail.eml"

# --- SSH: root logs in with a key made for the run ---
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$tmp/ssh_host_key"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/id"
cp "$tmp/id.pub" "$tmp/authorized_keys"
cat >"$tmp/sshd.conf" <<EOF
Port 22
ListenAddress 127.0.0.1
HostKey $tmp/ssh_host_key
PidFile $tmp/sshd.pid
PermitRootLogin prohibit-password
AuthorizedKeysFile $tmp/authorized_keys
StrictModes no
UsePAM no
EOF
/usr/sbin/sshd -D -e -f "$tmp/sshd.conf" >"$tmp/sshd.log" 2>&1 &
pids+=($!)

# --- Telnet: inetutils telnetd (started per connection by socat, as inetd
# would) runs a login dialog of the script's own instead of login(1), so no
# account of the machine is used: alice/secret gets a shell prompt ---
cat >"$tmp/login.sh" <<'EOF'
#!/bin/sh
printf 'netcap test host\r\n\r\nlogin: '
read -r user
printf 'Password: '
stty -echo
read -r pass
stty echo
printf '\r\n'
if [ "$user" = alice ] && [ "$pass" = secret ]; then
	printf 'Last login: Mon Nov 23 10:00:00 2026 on pts/0\r\nalice@host:~$ '
	read -r cmd
else
	sleep 1
	printf 'Login incorrect\r\n'
fi
EOF
chmod 755 "$tmp/login.sh"
socat TCP-LISTEN:23,bind=127.0.0.1,reuseaddr,fork EXEC:"/usr/sbin/telnetd -h -E $tmp/login.sh",nofork >"$tmp/telnetd.log" 2>&1 &
pids+=($!)

# --- SMTP: aiosmtpd with AUTH (alice/secret) and STARTTLS, on port 25 ---
cat >"$tmp/smtpd.py" <<'EOF'
import signal, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 Message accepted for delivery"

def authenticate(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == b"alice" and data.password == b"secret"
    return AuthResult(success=ok)

tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(sys.argv[1], sys.argv[2])
c = Controller(Handler(), hostname="127.0.0.1", port=25, server_hostname="mail.example.test",
               authenticator=authenticate, auth_require_tls=False, tls_context=tls)
c.start()
signal.sigwait({signal.SIGTERM, signal.SIGINT})
c.stop()
EOF
"$py" "$tmp/smtpd.py" "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/smtpd.log" 2>&1 &
pids+=($!)

# --- POP3 and IMAP: dovecot, user alice/secret, STARTTLS offered ---
mkdir -p "$tmp/mail/alice/Maildir/cur" "$tmp/mail/alice/Maildir/new" "$tmp/mail/alice/Maildir/tmp" "$tmp/dovecot"
cp "$tmp/mail.eml" "$tmp/mail/alice/Maildir/new/1700000000.M1P1.netcap"
chown -R nobody:nogroup "$tmp/mail"
echo 'alice:{PLAIN}secret' >"$tmp/users"
cat >"$tmp/dovecot.conf" <<EOF
protocols = imap pop3
listen = 127.0.0.1
base_dir = $tmp/dovecot
state_dir = $tmp/dovecot
log_path = $tmp/dovecot.log
ssl = yes
ssl_cert = <$tmp/cert.pem
ssl_key = <$tmp/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
pop3_uidl_format = %f
passdb {
  driver = passwd-file
  args = scheme=PLAIN $tmp/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$tmp/mail/%u
}
service imap-login {
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3s {
    port = 0
  }
}
EOF
dovecot -c "$tmp/dovecot.conf"

# --- FTP: vsftpd, anonymous, with an upload folder ---
mkdir -p "$tmp/ftp/incoming" "$tmp/ftp-empty"
printf 'netcap FTP test file\n%.0s' $(seq 40) >"$tmp/ftp/readme.txt"
chown ftp:ftp "$tmp/ftp/incoming"
cat >"$tmp/vsftpd.conf" <<EOF
listen=YES
listen_address=127.0.0.1
background=NO
anonymous_enable=YES
anon_root=$tmp/ftp
write_enable=YES
anon_upload_enable=YES
anon_umask=022
local_enable=NO
pasv_enable=YES
port_enable=YES
seccomp_sandbox=NO
secure_chroot_dir=$tmp/ftp-empty
xferlog_enable=NO
ftpd_banner=netcap test FTP server ready.
EOF
vsftpd "$tmp/vsftpd.conf" >"$tmp/vsftpd.log" 2>&1 &
pids+=($!)

# --- HTTP files: nginx, gzip for text ---
mkdir -p "$tmp/www" "$tmp/nginx"
"$py" - "$tmp/www" <<'EOF'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
raw = b"".join(b"\x00" + bytes((x * 16 + y) % 256 for x in range(16)) for y in range(16))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1] + "/logo.png", "wb").write(png)
open(sys.argv[1] + "/notes.txt", "w").write("".join("line %d of the notes netcap extracts\n" % i for i in range(200)))
EOF
cat >"$tmp/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx.log;
events {}
http {
  access_log off;
  types { image/png png; text/plain txt; }
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  gzip on;
  gzip_types text/plain;
  server {
    listen 127.0.0.1:80;
    server_name www.example.test;
    root $tmp/www;
  }
}
EOF
nginx -c "$tmp/nginx.conf" >"$tmp/nginx-out.log" 2>&1 &
pids+=($!)

# --- HTTPS behind an HTTP CONNECT proxy ---
openssl s_server -www -accept 127.0.0.1:8443 -cert "$tmp/cert.pem" -key "$tmp/key.pem" >"$tmp/tls.log" 2>&1 &
pids+=($!)
cat >"$tmp/tinyproxy.conf" <<EOF
User nobody
Group nogroup
Port 3128
Listen 127.0.0.1
Timeout 30
MaxClients 4
ConnectPort 8443
Allow 127.0.0.1
EOF
tinyproxy -d -c "$tmp/tinyproxy.conf" >"$tmp/tinyproxy.log" 2>&1 &
pids+=($!)

wait_port tcp 127.0.0.1 22
wait_port tcp 127.0.0.1 23
wait_port tcp 127.0.0.1 25
wait_port tcp 127.0.0.1 110
wait_port tcp 127.0.0.1 143
wait_port tcp 127.0.0.1 21
wait_port tcp 127.0.0.1 80
wait_port tcp 127.0.0.1 8443
wait_port tcp 127.0.0.1 3128

# --- capture ---
record_start lo

# SSH: a key login that runs one command
step ssh -F /dev/null -i "$tmp/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o BatchMode=yes root@127.0.0.1 true

# Telnet: a refused login, then alice's; the client types a line at a time
# (its input is not a terminal)
telnet_as() {
	(sleep 0.5; printf '%s\n' "$1"; sleep 0.3; printf '%s\n' "$2"; sleep 1.5; printf 'exit\n'; sleep 0.3) | timeout 20 telnet 127.0.0.1 23
}
step telnet_as alice wrong
step telnet_as alice secret

# SMTP: AUTH PLAIN and a mail with an attachment; then STARTTLS (aiosmtpd
# answers a wrong password only after a long delay, so IMAP has the refused
# login)
smtp=(curl -sS --mail-from alice@example.test --mail-rcpt bob@example.test --mail-rcpt carol@example.test
	--upload-file "$tmp/mail.eml")
step "${smtp[@]}" -u alice:secret --login-options AUTH=PLAIN smtp://127.0.0.1/client.example.test
step "${smtp[@]}" --ssl-reqd --cacert "$tmp/cert.pem" --resolve mail.example.test:25:127.0.0.1 \
	smtp://mail.example.test/client.example.test

# POP3: list and retrieve; then STLS
step curl -sS pop3://alice:secret@127.0.0.1/
step curl -sS pop3://alice:secret@127.0.0.1/1
step curl -sS --ssl-reqd --cacert "$tmp/cert.pem" --resolve mail.example.test:110:127.0.0.1 pop3://alice:secret@mail.example.test/

# IMAP: fetch the message; a wrong password; then STARTTLS
step curl -sS 'imap://alice:secret@127.0.0.1/INBOX;UID=1'
step curl -sS imap://alice:wrong@127.0.0.1/INBOX
step curl -sS --ssl-reqd --cacert "$tmp/cert.pem" --resolve mail.example.test:143:127.0.0.1 imap://alice:secret@mail.example.test/INBOX

# FTP: passive download, active download, passive upload
step curl -sS -o /dev/null ftp://127.0.0.1/readme.txt
step curl -sS -o /dev/null -P 127.0.0.1 ftp://127.0.0.1/readme.txt
step curl -sS -T "$tmp/mail.eml" ftp://127.0.0.1/incoming/upload.eml

# HTTP: a PNG, a text file gzip'd, a 404
http=(curl -sS --http1.1 -o /dev/null --resolve www.example.test:80:127.0.0.1)
step "${http[@]}" http://www.example.test/logo.png
step "${http[@]}" --compressed http://www.example.test/notes.txt
step "${http[@]}" http://www.example.test/missing.txt

# HTTPS through the proxy: CONNECT, then TLS with SNI
step curl -sS -o /dev/null --cacert "$tmp/cert.pem" -x http://127.0.0.1:3128 \
	--connect-to www.example.test:8443:127.0.0.1:8443 https://www.example.test:8443/

record_stop 0.3 "$out"
