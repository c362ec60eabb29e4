package decoder

import (
	"regexp"
	"strings"
	"testing"
)

// TestBannerProduct: greetings of real servers (the shared captures' SMTP,
// POP3, IMAP and FTP greetings, and services.pcap's) name their software;
// greetings that name none give none.
func TestBannerProduct(t *testing.T) {
	for _, c := range []struct{ greeting, product, version string }{
		{"mail.example.com ESMTP Postfix", "Postfix", ""},
		{"Air-de-catena.localdomain ESMTP Postfix", "Postfix", ""},
		{"xc90.websitewelcome.com ESMTP Exim 4.69 #1 Mon, 05 Oct 2009 01:05:54 -0500 ", "Exim", "4.69"},
		{"www1377.sakura.ne.jp ESMTP Sendmail 8.14.3/8.14.3; Thu, 20 Feb 2014 04:02:39 +0900 (JST)", "Sendmail", "8.14.3"},
		{"server-102e9f9.example.int Microsoft ESMTP MAIL Service, Version: 6.0.3790.1830", "Microsoft SMTP Service", "6.0.3790.1830"},
		{"TiS1FHJM.qDtGLyY.com Microsoft ESMTP MAIL Service, Version: 6.0.3790.3959 ready at  Sun, 01 Jan 2010 13:01:43 +1000", "Microsoft SMTP Service", "6.0.3790.3959"},
		{"mx01.ingw.orange.tn ESMTP CommuniGate Pro 6.1.16", "CommuniGate Pro", "6.1.16"},
		{"linuxbox -- E-MailRelay V2.1a -- Service ready", "E-MailRelay", "2.1a"},
		{"mail.example.test Python SMTP 1.4.3", "Python SMTP", "1.4.3"},
		{"OK Microsoft Exchange IMAP4rev1 server version 5.5.2650.23 (umr-mail02) ready", "Microsoft Exchange", "5.5.2650.23"},
		{"Dovecot (Debian) ready.", "Dovecot", ""},
		{"OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.", "Dovecot", ""},
		{"(vsFTPd 3.0.3)", "vsftpd", "3.0.3"},
		{"(vsFTPd 2.3.5)", "vsftpd", "2.3.5"},
		{"ProFTPD 1.3.5e Server (Debian) [::ffff:10.0.0.1]", "ProFTPD", "1.3.5e"},
		{"FileZilla Server 0.9.60 beta", "FileZilla Server", "0.9.60"},
		{"Serv-U FTP Server v15.1 ready...", "Serv-U", "15.1"},
		// No software named.
		{"mail.example.com ESMTP", "", ""},
		{"mta4265.mail.ne1.yahoo.com ESMTP ready", "", ""},
		{"POP server ready H mieueus020 1Mw7UO-1j88qA02mS-00sOH0", "", ""},
		{"netcap test FTP server ready.", "", ""},
		{"#########################################################", "", ""},
		{"", "", ""},
	} {
		p, v := bannerProduct(c.greeting)
		if p != c.product || v != c.version {
			t.Errorf("%q: %q %q, want %q %q", c.greeting, p, v, c.product, c.version)
		}
	}
}

// TestBannerRuleLiterals: every rule has a literal to spare a greeting its
// pattern, and the literal is text the pattern spells out (TestBannerProduct
// checks that greetings with it still match).
func TestBannerRuleLiterals(t *testing.T) {
	for _, r := range bannerRules {
		if len(r.literal) < 4 || !strings.Contains(r.re.String(), regexp.QuoteMeta(r.literal)) {
			t.Errorf("%s: literal %q of %s", r.product, r.literal, r.re)
		}
	}
}
