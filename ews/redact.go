package ews

import (
	"encoding/base64"
	"errors"
	"html"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

const redacted = "[redacted]"

// minTokenLen is the shortest bearer token the redactor remembers.
const minTokenLen = 16

// Patterns of credentials in text a server sent back (an error page that
// echoes the request's headers, a fault that quotes a password).
var (
	// secretElement matches the content of XML elements whose local name
	// says it holds a secret (Password, ClientSecret, AccessToken, ...).
	secretElement = regexp.MustCompile(`(?i)(<([A-Za-z_][\w.\-]*:)?[A-Za-z_]*(?:password|passwd|pwd|secret|token|credential)[\w.\-]*(?:\s[^>]*)?>)([^<]*)`)
	// secretPair matches key=value, key: value and "key": "value" pairs
	// with such names.
	secretPair = regexp.MustCompile(`(?i)((?:password|passwd|pwd|secret|token|credential)[\w\-]*"?\s*[=:]\s*"?)([^"&\s,;<]+)`)
	// authHeader matches an Authorization or Proxy-Authorization header
	// quoted in text, with its scheme word if any.
	authHeader = regexp.MustCompile(`(?i)(\b(?:proxy-)?authorization\b["']?\s*[:=]\s*["']?\s*)((?:[A-Za-z][\w.+\-]*\s+)?)([^\s"'<>,;&]+)`)
	// schemeToken matches a credential after an auth scheme word, e.g.
	// "Basic dXNlcjpwYXNz" or "Bearer eyJ0...".
	schemeToken = regexp.MustCompile(`(?i)\b(Basic|Bearer|NTLM|Negotiate)(\s+)([A-Za-z0-9+/_.~\-]{8,}={0,2})`)
	// jwt matches a JSON Web Token (an OAuth access token) anywhere.
	jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`)
)

// Redact returns text with credentials replaced by [redacted]: the token
// of a quoted Authorization header ("Authorization: Basic …") and of
// "Basic …", "Bearer …", "NTLM …" or "Negotiate …", JSON Web Tokens, the
// content of password-, secret- and token-like XML elements and key=value
// pairs, and every occurrence of the given secret values (as they are, and
// HTML-, XML- and URL-escaped; values shorter than 3 bytes are ignored).
//
// The Client applies it, with its own password and tokens, to every piece
// of server text it shows: the Excerpt, Message, MessageXML and Diagnostics
// of its errors (so err.Error() of any error it returns), and the wire
// trace. Use it for server text that reaches a report or log by another
// way.
func Redact(text string, secrets ...string) string {
	return redactText(text, secrets)
}

func redactText(s string, secrets []string) string {
	if s == "" {
		return s
	}
	for _, sec := range secrets {
		s = redactValue(s, sec)
	}
	s = authHeader.ReplaceAllString(s, "${1}${2}"+redacted)
	s = schemeToken.ReplaceAllStringFunc(s, func(m string) string {
		sub := schemeToken.FindStringSubmatch(m)
		if !looksLikeToken(sub[3]) {
			return m
		}
		return sub[1] + sub[2] + redacted
	})
	s = jwt.ReplaceAllString(s, redacted)
	s = secretElement.ReplaceAllString(s, "${1}"+redacted)
	return secretPair.ReplaceAllString(s, "${1}"+redacted)
}

// looksLikeToken tells a credential ("dXNlcjpwYXNz", "TlRMTVNTUAAB…")
// from a word of prose ("Basic authentication"): it has a digit or a
// base64 or URL-safe symbol, or a lower-case letter followed by an upper
// case one.
func looksLikeToken(s string) bool {
	if s == redacted || strings.HasPrefix(s, "[redacted") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', strings.IndexByte("+/=_.~-", c) >= 0:
			return true
		case i > 0 && 'A' <= c && c <= 'Z' && 'a' <= s[i-1] && s[i-1] <= 'z':
			return true
		}
	}
	return false
}

// redactValue replaces sec in s, as it is and escaped as servers quote it.
func redactValue(s, sec string) string {
	if len(sec) < 3 {
		return s
	}
	forms := [...]string{sec, html.EscapeString(sec), url.QueryEscape(sec), url.PathEscape(sec)}
	for i, f := range forms {
		if i > 0 && f == sec {
			continue
		}
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, redacted)
		}
	}
	return s
}

// redactor knows the secrets of one Client: the password of the auth
// option, the Basic credential it makes, and the last bearer tokens seen.
// The zero value and nil redact patterns only.
type redactor struct {
	fixed []func() string // closures, so that no fmt verb prints them

	mu     sync.Mutex
	tokens [2]func() string // the last bearer tokens, newest first
}

// redact hides credentials in server text.
func (r *redactor) redact(s string) string {
	if s == "" {
		return s
	}
	return redactText(s, r.secrets())
}

func (r *redactor) secrets() []string {
	if r == nil {
		return nil
	}
	out := make([]string, 0, len(r.fixed)+2)
	for _, f := range r.fixed {
		out = append(out, f())
	}
	r.mu.Lock()
	for _, t := range r.tokens {
		if t != nil {
			out = append(out, t())
		}
	}
	r.mu.Unlock()
	return out
}

// addPassword registers a password and the Basic credential it makes with
// user.
func (r *redactor) addPassword(user string, password func() string) {
	r.fixed = append(r.fixed, password, func() string {
		return base64.StdEncoding.EncodeToString([]byte(user + ":" + password()))
	})
}

// sawToken registers a bearer token that was sent (the Authorization value
// without its scheme). Tokens shorter than minTokenLen (never an issued
// OAuth token) are left to the patterns, so that a test token such as
// "expired" does not blank that word out of every message.
func (r *redactor) sawToken(authorization string) {
	_, tok, ok := strings.Cut(authorization, " ")
	tok = strings.TrimSpace(tok)
	if r == nil || !ok || len(tok) < minTokenLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tokens[0] != nil && r.tokens[0]() == tok {
		return
	}
	r.tokens[1] = r.tokens[0]
	r.tokens[0] = secret(tok)
}

// redactError returns err, or an error with its message redacted when the
// message holds a credential; that error does not unwrap to err, whose
// message would show it.
func (r *redactor) redactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if m := r.redact(msg); m != msg {
		return errors.New(m)
	}
	return err
}

// redactCode redacts a response code the server sent, unless it is one of
// the schema's (the common case, kept cheap).
func (r *redactor) redactCode(c ResponseCode) ResponseCode {
	if c == "" || c.Known() {
		return c
	}
	return ResponseCode(r.redact(string(c)))
}

func (r *redactor) redactMessageXML(x MessageXML) MessageXML {
	for i := range x {
		x[i].Value = r.redact(x[i].Value)
	}
	return x
}
