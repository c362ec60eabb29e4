package decoder

import (
	"regexp"
	"strings"
)

// Mail and FTP servers name their software in their greeting, in no
// standard form ("ESMTP Exim 4.69 #1", "(vsFTPd 3.0.3)", "Microsoft ESMTP
// MAIL Service, Version: 6.0.3790.1830"). bannerRules are the products an
// analyst meets most, each with the pattern that finds it and, where the
// greeting gives one, its version (the pattern's first group). A greeting
// no rule matches names no software: guessing would be worse than nothing.
var bannerRules = []struct {
	product string
	re      *regexp.Regexp
}{
	{"Postfix", regexp.MustCompile(`\bESMTP Postfix\b`)},
	{"Exim", regexp.MustCompile(`\bExim (\d[\w.]*)`)},
	{"Sendmail", regexp.MustCompile(`\bSendmail (\d[\w.]*)`)},
	{"OpenSMTPD", regexp.MustCompile(`\bOpenSMTPD\b`)},
	{"Microsoft SMTP Service", regexp.MustCompile(`\bMicrosoft ESMTP MAIL Service(?:, Version: (\d[\d.]*))?`)},
	{"CommuniGate Pro", regexp.MustCompile(`\bCommuniGate Pro (\d[\w.]*)`)},
	{"E-MailRelay", regexp.MustCompile(`\bE-MailRelay V(\d[\w.]*)`)},
	{"Python SMTP", regexp.MustCompile(`\bPython SMTP (\d[\w.]*)`)},
	{"Microsoft Exchange", regexp.MustCompile(`\bMicrosoft Exchange (?:IMAP4rev1|IMAP4|POP3) server version (\d[\d.]*)`)},
	{"Dovecot", regexp.MustCompile(`\bDovecot\b`)},
	{"Courier-IMAP", regexp.MustCompile(`\bCourier-IMAP\b`)},
	{"Cyrus IMAP", regexp.MustCompile(`\bCyrus IMAP v?(\d[\w.]*)`)},
	{"vsftpd", regexp.MustCompile(`\(vsFTPd (\d[\w.]*)\)`)},
	{"ProFTPD", regexp.MustCompile(`\bProFTPD (\d[\w.]*)`)},
	{"Pure-FTPd", regexp.MustCompile(`\bPure-FTPd\b`)},
	{"FileZilla Server", regexp.MustCompile(`\bFileZilla Server(?: version)? (\d[\w.]*)`)},
	{"Microsoft FTP Service", regexp.MustCompile(`\bMicrosoft FTP Service\b`)},
	{"Serv-U", regexp.MustCompile(`\bServ-U FTP Server v(\d[\w.]*)`)},
}

// bannerProduct returns the software a greeting names, or "".
func bannerProduct(greeting string) (product, version string) {
	for _, r := range bannerRules {
		if m := r.re.FindStringSubmatch(greeting); m != nil {
			if len(m) > 1 {
				// "8.14.3/8.14.3": Sendmail's version and its
				// configuration's.
				version, _, _ = strings.Cut(m[1], "/")
			}
			return r.product, strings.TrimRight(version, ".")
		}
	}
	return "", ""
}
