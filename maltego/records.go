package maltego

import (
	"net/mail"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// The transforms over the application records: software, services,
// credentials, files, mail, SSH, HTTP cookies and parameters, FTP. Their
// entities carry what the records say about a value as properties (notes):
// a value seen in several records gets every distinct note, so that
// aggregating never hides a second banner, HASSH or password.

// maxNotes caps the distinct values one property keeps (the smallest in
// text order): a cookie set on every request of a busy site must not grow an
// entity without bound.
const maxNotes = 32

// noteSet is the distinct values of one property of an aggregated value.
type noteSet struct {
	vals map[string]bool
	more bool // values beyond maxNotes were left out
}

// note adds v to the property key of the value; empty values are not noted.
func (it *item) note(key, v string) {
	if v == "" {
		return
	}
	if it.notes == nil {
		it.notes = map[string]*noteSet{}
	}
	s := it.notes[key]
	if s == nil {
		s = &noteSet{vals: map[string]bool{}}
		it.notes[key] = s
	}
	if s.vals[v] {
		return
	}
	if len(s.vals) >= maxNotes {
		// Keep the smallest values, so that the property does not depend
		// on the order of the records.
		s.more = true
		top := ""
		for x := range s.vals {
			if x > top {
				top = x
			}
		}
		if v > top {
			return
		}
		delete(s.vals, top)
	}
	s.vals[v] = true
}

// joinNotes is a property's text: its values sorted, joined by ", ", and
// "..." when larger ones were left out.
func joinNotes(s *noteSet) string {
	vs := make([]string, 0, len(s.vals)+1)
	for v := range s.vals {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	if s.more {
		vs = append(vs, "...")
	}
	return strings.Join(vs, ", ")
}

func recordsOfType(t types.Type) []types.Type { return []types.Type{t} }

// mailTypes are the records that carry mail messages.
var mailTypes = []types.Type{types.Type_NC_SMTP, types.Type_NC_POP3, types.Type_NC_IMAP}

// recordTransforms are the transforms of this file, in the order -list
// prints them (after the older ones).
var recordTransforms = []Transform{
	{Name: "toSoftwareProducts", Input: AuditRecords(types.Type_NC_Software), Output: "netcap.Software", Reads: recordsOfType(types.Type_NC_Software),
		About: "software named by HTTP User-Agent and Server headers and SSH identification lines, as 'product version' (of an ip property: running on it)",
		run: func(q *query) error {
			return q.each(types.Type_NC_Software, func(m proto.Message) {
				s := m.(*types.Software)
				if s.Product == "" || (q.ip != "" && s.Host != q.ip) {
					return
				}
				it := q.addSpan(strings.TrimSpace(s.Product+" "+s.Version), s.Timestamp, s.TimestampLast)
				it.note("sources", s.Source)
				it.note("role", s.Role)
				it.note("os", s.OS)
				it.note("hosts", s.Host)
			})
		}},
	{Name: "toServices", Input: AuditRecords(types.Type_NC_Service), Output: "netcap.Service", Reads: recordsOfType(types.Type_NC_Service),
		About: "servers as 'ip:port/transport' with protocol, banner and software (of an ip property: the services it ran or used)",
		run: func(q *query) error {
			return q.each(types.Type_NC_Service, func(m proto.Message) {
				s := m.(*types.Service)
				if s.IP == "" || !(q.ip == "" || s.IP == q.ip || contains(s.Clients, q.ip)) {
					return
				}
				q.key = appendLower(append(appendHostPort(q.key[:0], s.IP, int64(s.Port)), '/'), s.Transport)
				it := q.addKey(q.key, s.Timestamp, s.TimestampLast)
				it.note("protocol", s.Protocol)
				it.note("banner", s.Banner)
				it.note("product", strings.TrimSpace(s.Product+" "+s.Version))
				for _, c := range s.Clients {
					it.note("clients", c)
				}
			})
		}},
	{Name: "toCredentialsByService", Input: AuditRecords(types.Type_NC_Credentials), Output: "netcap.Credentials", Reads: recordsOfType(types.Type_NC_Credentials),
		About: "logins as 'user@ip:port' with protocol, mechanism, result and the password in clear text (of an ip property: its logins as client or server)",
		run: func(q *query) error {
			return q.each(types.Type_NC_Credentials, func(m proto.Message) {
				c := m.(*types.Credentials)
				if !q.host(c.SrcIP, c.DstIP) {
					return
				}
				it := q.add(CredentialsName(c.User, c.Service), c.Timestamp)
				it.note("protocol", c.Protocol)
				it.note("mechanism", c.Mechanism)
				it.note("result", c.Result)
				it.note("password", c.Password)
				it.note("material", c.Material)
			})
		}},
	{Name: "toFiles", Input: AuditRecords(types.Type_NC_File), Output: "netcap.File", Reads: recordsOfType(types.Type_NC_File),
		About: "files carried by HTTP and mail, by name (the SHA256 when unnamed), with SHA256, protocol, media types and the -files location when stored (of an ip property: sent or received by it)",
		run: func(q *query) error {
			return q.each(types.Type_NC_File, func(m proto.Message) {
				f := m.(*types.File)
				if !q.host(f.SrcIP, f.DstIP) {
					return
				}
				v := f.Name
				if v == "" {
					v = f.SHA256
				}
				if v == "" {
					return
				}
				it := q.add(v, f.Timestamp)
				it.note("sha256", f.SHA256)
				it.note("protocol", f.Source)
				it.note("type", f.ContentType)
				it.note("type", f.ContentTypeDetected)
				it.note("location", f.Location)
			})
		}},
	{Name: "toMailFrom", Input: IPAddr, Output: "netcap.Email", Reads: mailTypes,
		About: "senders of the mail the host sent or received: SMTP's MAIL FROM and the From addresses of SMTP, POP3 and IMAP messages",
		run: func(q *query) error {
			return q.eachMail(func(m *mailSeen) {
				from := addresses(m.msg.GetFrom())
				if m.envFrom != "" {
					from = append(from, m.envFrom)
				}
				for _, a := range distinct(from) {
					q.add(a, m.ts).note("protocol", m.proto)
				}
			})
		}},
	{Name: "toMailTo", Input: IPAddr, Output: "netcap.Email", Reads: mailTypes,
		About: "recipients of the mail the host sent or received: SMTP's RCPT TO and the To and Cc addresses of SMTP, POP3 and IMAP messages",
		run: func(q *query) error {
			return q.eachMail(func(m *mailSeen) {
				to := append(append(append([]string(nil), m.rcpt...), m.msg.GetTo()...), m.msg.GetCc()...)
				for _, a := range distinct(to) {
					q.add(a, m.ts).note("protocol", m.proto)
				}
			})
		}},
	{Name: "toMailSubjects", Input: IPAddr, Output: "netcap.MailSubject", Reads: mailTypes,
		About: "subjects of the SMTP, POP3 and IMAP messages the host sent or received, with their senders",
		run: func(q *query) error {
			return q.eachMail(func(m *mailSeen) {
				if s := m.msg.GetSubject(); s != "" {
					it := q.add(s, m.ts)
					it.note("protocol", m.proto)
					it.note("from", m.msg.GetFrom())
				}
			})
		}},
	sshTransform("toSSHClients", "netcap.SSHClient", true, "hassh"),
	sshTransform("toSSHServers", "netcap.SSHServer", false, "hasshServer"),
	httpNamesTransform("toHTTPCookies", "netcap.HTTPCookie", "names of the cookies in Cookie and Set-Cookie headers, with their values,", func(h *types.HTTP, add func(name, value string)) {
		for _, c := range h.RequestCookies {
			add(c.Name, c.Value)
		}
		for _, c := range h.ResponseCookies {
			add(c.Name, c.Value)
		}
	}),
	httpNamesTransform("toHTTPParameters", "netcap.HTTPParameter", "names of the query parameters of the request URLs, with their values,", func(h *types.HTTP, add func(name, value string)) {
		for n, v := range h.Parameters {
			add(n, v)
		}
	}),
	{Name: "toFTPUsers", Input: AuditRecords(types.Type_NC_FTP), Output: "netcap.FTPUser", Reads: recordsOfType(types.Type_NC_FTP),
		About: "USER names of the FTP sessions, with the servers (of an ip property: its sessions as client or server)",
		run: func(q *query) error {
			return q.each(types.Type_NC_FTP, func(m proto.Message) {
				f := m.(*types.FTP)
				if f.User != "" && q.host(f.SrcIP, f.DstIP) {
					q.add(f.User, f.Timestamp).note("servers", string(appendHostPort(nil, f.DstIP, int64(f.DstPort))))
				}
			})
		}},
	{Name: "toFTPFiles", Input: AuditRecords(types.Type_NC_FTP), Output: "netcap.FTPFile", Reads: recordsOfType(types.Type_NC_FTP),
		About: "file names of the FTP transfers (RETR, STOR, ...), with the command and the servers (of an ip property: its sessions as client or server)",
		run: func(q *query) error {
			return q.each(types.Type_NC_FTP, func(m proto.Message) {
				f := m.(*types.FTP)
				if !q.host(f.SrcIP, f.DstIP) {
					return
				}
				for _, t := range f.Transfers {
					if t.Name != "" {
						it := q.add(t.Name, f.Timestamp)
						it.note("command", t.Command)
						it.note("servers", string(appendHostPort(nil, f.DstIP, int64(f.DstPort))))
					}
				}
			})
		}},
}

// CredentialsName is the value of a Credentials entity: "user@service",
// "(no user)@service" when the login sent no user name.
func CredentialsName(user, service string) string {
	if user == "" {
		user = "(no user)"
	}
	return user + "@" + service
}

func sshTransform(name, out string, client bool, hash string) Transform {
	side := "servers"
	if client {
		side = "clients"
	}
	return Transform{Name: name, Input: AuditRecords(types.Type_NC_SSH), Output: out, Reads: recordsOfType(types.Type_NC_SSH),
		About: "identification lines of the SSH " + side + ", with their HASSH and addresses (of an ip property: its connections)",
		run: func(q *query) error {
			return q.each(types.Type_NC_SSH, func(m proto.Message) {
				s := m.(*types.SSH)
				if s.IsClient != client || s.Ident == "" || !q.host(s.SrcIP, s.DstIP) {
					return
				}
				it := q.add(s.Ident, s.Timestamp)
				it.note(hash, s.HASSH)
				it.note("hosts", s.SrcIP)
			})
		}}
}

// httpNamesTransform counts names (of cookies, parameters) of the HTTP
// records of the host, noting their values.
func httpNamesTransform(name, out, about string, pairs func(h *types.HTTP, add func(name, value string))) Transform {
	return Transform{Name: name, Input: IPAddr, Output: out, Reads: []types.Type{types.Type_NC_HTTP},
		About: about + " of the HTTP exchanges the host took part in",
		run: func(q *query) error {
			return q.each(types.Type_NC_HTTP, func(m proto.Message) {
				h := m.(*types.HTTP)
				if !q.host(h.SrcIP, h.DstIP) {
					return
				}
				pairs(h, func(n, v string) {
					if n != "" {
						q.add(n, h.Timestamp).note("values", v)
					}
				})
			})
		}}
}

// mailSeen is one mail transaction or message of an SMTP, POP3 or IMAP
// record.
type mailSeen struct {
	proto   string
	ts      int64
	envFrom string   // SMTP's MAIL FROM, "" for the others
	rcpt    []string // SMTP's RCPT TO
	msg     *types.MailMessage
}

// eachMail calls fn for every SMTP transaction and every POP3 and IMAP
// message of the host's sessions. The three files add to one answer, so a
// missing one is no news; only when all three are missing an Inform says so.
func (q *query) eachMail(fn func(m *mailSeen)) error {
	present := false
	for _, t := range mailTypes {
		if recordFile(q.dir, t) != "" {
			present = true
		}
	}
	if !present {
		q.msg.Inform("no SMTP, POP3 or IMAP records in " + q.dir)
		return nil
	}
	if err := q.eachIfPresent(types.Type_NC_SMTP, func(m proto.Message) {
		s := m.(*types.SMTP)
		if q.host(s.SrcIP, s.DstIP) {
			fn(&mailSeen{proto: "SMTP", ts: s.Timestamp, envFrom: s.MailFrom, rcpt: s.RcptTo, msg: s.Message})
		}
	}); err != nil {
		return err
	}
	if err := q.eachIfPresent(types.Type_NC_POP3, func(m proto.Message) {
		p := m.(*types.POP3)
		if q.host(p.SrcIP, p.DstIP) {
			for _, msg := range p.Messages {
				fn(&mailSeen{proto: "POP3", ts: p.Timestamp, msg: msg})
			}
		}
	}); err != nil {
		return err
	}
	return q.eachIfPresent(types.Type_NC_IMAP, func(m proto.Message) {
		p := m.(*types.IMAP)
		if q.host(p.SrcIP, p.DstIP) {
			for _, msg := range p.Messages {
				fn(&mailSeen{proto: "IMAP", ts: p.Timestamp, msg: msg})
			}
		}
	})
}

// addresses are the addr-specs of a From header field as sent; the field
// itself (trimmed) when it does not parse as an address list, so that a
// malformed sender still shows.
func addresses(field string) []string {
	field = strings.TrimSpace(field)
	if field == "" {
		return nil
	}
	list, err := mail.ParseAddressList(field)
	if err != nil || len(list) == 0 {
		return []string{field}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, a.Address)
	}
	return out
}

// distinct drops empty and repeated values, so that a message counts once
// for an address that is both its envelope and header sender (or recipient).
func distinct(vs []string) []string {
	out := vs[:0:0]
	for i, v := range vs {
		if v == "" || contains(vs[:i], v) {
			continue
		}
		out = append(out, v)
	}
	return out
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// appendLower appends s in lower case (ASCII).
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b = append(b, ch)
	}
	return b
}
