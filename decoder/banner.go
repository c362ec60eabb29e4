package decoder

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// Mail and FTP servers name their software in their greeting, in no
// standard form ("ESMTP Exim 4.69 #1", "(vsFTPd 3.0.3)", "Microsoft ESMTP
// MAIL Service, Version: 6.0.3790.1830"). bannerRules are the products an
// analyst meets most, each with the pattern that finds it and, where the
// greeting gives one, its version (the pattern's first group). A greeting
// no rule matches names no software: guessing would be worse than nothing.
var bannerRules = []bannerRule{
	rule("Postfix", `\bESMTP Postfix\b`),
	rule("Exim", `\bExim (\d[\w.]*)`),
	rule("Sendmail", `\bSendmail (\d[\w.]*)`),
	rule("OpenSMTPD", `\bOpenSMTPD\b`),
	rule("Microsoft SMTP Service", `\bMicrosoft ESMTP MAIL Service(?:, Version: (\d[\d.]*))?`),
	rule("CommuniGate Pro", `\bCommuniGate Pro (\d[\w.]*)`),
	rule("E-MailRelay", `\bE-MailRelay V(\d[\w.]*)`),
	rule("Python SMTP", `\bPython SMTP (\d[\w.]*)`),
	rule("Microsoft Exchange", `\bMicrosoft Exchange (?:IMAP4rev1|IMAP4|POP3) server version (\d[\d.]*)`),
	rule("Dovecot", `\bDovecot\b`),
	rule("Courier-IMAP", `\bCourier-IMAP\b`),
	rule("Cyrus IMAP", `\bCyrus IMAP v?(\d[\w.]*)`),
	rule("vsftpd", `\(vsFTPd (\d[\w.]*)\)`),
	rule("ProFTPD", `\bProFTPD (\d[\w.]*)`),
	rule("Pure-FTPd", `\bPure-FTPd\b`),
	rule("FileZilla Server", `\bFileZilla Server(?: version)? (\d[\w.]*)`),
	rule("Microsoft FTP Service", `\bMicrosoft FTP Service\b`),
	rule("Serv-U", `\bServ-U FTP Server v(\d[\w.]*)`),
}

type bannerRule struct {
	product string
	re      *regexp.Regexp
	// literal is text every match of re holds: a greeting without it is
	// not tried against re. Go's regexp finds no place to start a
	// pattern that begins with \b and tries it at every position of the
	// greeting, for every rule, which made this the costliest step of a
	// mail or FTP connection.
	literal string
}

// rule compiles pattern and finds its literal: the longest run of text the
// top level of the pattern requires (not one inside a group or repetition).
func rule(product, pattern string) bannerRule {
	r := bannerRule{product: product, re: regexp.MustCompile(pattern)}
	if re, err := syntax.Parse(pattern, syntax.Perl); err == nil && re.Op == syntax.OpConcat {
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 && len(sub.Rune) > len([]rune(r.literal)) {
				r.literal = string(sub.Rune)
			}
		}
	}
	return r
}

// bannerProduct returns the software a greeting names, or "".
func bannerProduct(greeting string) (product, version string) {
	for _, r := range bannerRules {
		if !strings.Contains(greeting, r.literal) {
			continue
		}
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
