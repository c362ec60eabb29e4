package decoder

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"unicode/utf16"

	"github.com/netcap/netcap/types"
)

// HTTP authentication (RFC 9110 section 11): the Authorization and
// Proxy-Authorization fields of a request become a Credentials record,
// with the server's answer as its Result (401 or 407: rejected, another
// final status: accepted, none: empty). Basic gives the user and password
// in the clear; Digest the user and, as Material, the realm and response
// hash; NTLM (and Negotiate wrapping NTLMSSP) the domain, user and
// workstation of the AUTHENTICATE message and its NT response; Bearer the
// token.

// httpAuthCredentials returns the Credentials of a request's
// authorization fields, or nil.
func httpAuthCredentials(r *types.HTTP) *types.Credentials {
	for name, v := range r.RequestHeader {
		if !strings.EqualFold(name, "Authorization") && !strings.EqualFold(name, "Proxy-Authorization") {
			continue
		}
		scheme, param, _ := strings.Cut(strings.TrimSpace(v), " ")
		param = strings.TrimSpace(param)
		c := &types.Credentials{Protocol: "HTTP", Mechanism: scheme}
		switch strings.ToLower(scheme) {
		case "basic":
			b, err := base64.StdEncoding.DecodeString(param)
			if err != nil {
				c.Material = param
				break
			}
			user, pass, _ := strings.Cut(string(b), ":")
			c.User, c.Password = Text([]byte(user)), Text([]byte(pass))
		case "digest":
			params := httpAuthParams(param)
			c.User = params["username"]
			c.Material = "realm=" + params["realm"] + " response=" + params["response"]
		case "ntlm", "negotiate":
			b, err := base64.StdEncoding.DecodeString(param)
			if err != nil || !ntlmAuthenticate(b, c) {
				return nil // a NEGOTIATE message, or Kerberos: no login in it
			}
		case "bearer":
			c.Material = Text([]byte(param))
		default:
			c.Material = Text([]byte(param))
		}
		switch code := r.StatusCode; {
		case code == 401 || code == 407:
			c.Result = "rejected"
		case code >= 200:
			c.Result = "accepted"
		}
		return c
	}
	return nil
}

// httpAuthParams reads the auth-params of a challenge or credentials
// (name=value or name="quoted value", comma separated).
func httpAuthParams(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t,")
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		name = strings.ToLower(strings.TrimSpace(name))
		rest = strings.TrimLeft(rest, " \t")
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			v = strings.ReplaceAll(rest[1:min(end, len(rest))], `\`, "")
			rest = rest[min(end+1, len(rest)):]
		} else {
			v, rest, _ = strings.Cut(rest, ",")
			v = strings.TrimSpace(v)
		}
		out[name] = Text([]byte(v))
		s = rest
	}
	return out
}

// ntlmAuthenticate reads an NTLMSSP AUTHENTICATE message (MS-NLMP 2.2.1.3)
// into c: "DOMAIN\user" as User, the workstation and the NT response (hex)
// as Material. It returns false for another message type.
func ntlmAuthenticate(b []byte, c *types.Credentials) bool {
	if len(b) < 64 || string(b[:8]) != "NTLMSSP\x00" || binary.LittleEndian.Uint32(b[8:]) != 3 {
		return false
	}
	field := func(off int) []byte { // a security buffer: length, allocated, offset
		n, at := int(binary.LittleEndian.Uint16(b[off:])), int(binary.LittleEndian.Uint32(b[off+4:]))
		if at > len(b) || n > len(b)-at {
			return nil
		}
		return b[at : at+n]
	}
	unicode := binary.LittleEndian.Uint32(b[60:])&1 != 0 // NTLMSSP_NEGOTIATE_UNICODE
	text := func(s []byte) string {
		if !unicode {
			return Text(s)
		}
		u := make([]uint16, len(s)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(s[2*i:])
		}
		return string(utf16.Decode(u))
	}
	domain, user, host := text(field(28)), text(field(36)), text(field(44))
	c.User = user
	if domain != "" {
		c.User = domain + `\` + user
	}
	nt := field(20)
	c.Material = "workstation=" + host + " nt-response=" + hex.EncodeToString(nt[:min(len(nt), 64)])
	return true
}
