package ews

import (
	"encoding/base64"
	"errors"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
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
// pairs, and every occurrence of the given secret values, as they are and
// escaped in any mix of HTML and XML entities (named, decimal,
// hexadecimal), percent-encoding (either case) and JSON escapes; values
// shorter than 3 bytes are ignored.
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
	// The patterns are slow on long text (milliseconds for a 10 KB
	// body); each runs only if its keyword occurs.
	lower := asciiLower(s)
	if strings.Contains(lower, "authorization") {
		s = authHeader.ReplaceAllString(s, "${1}${2}"+redacted)
	}
	if containsAny(lower, "basic", "bearer", "ntlm", "negotiate") {
		s = schemeToken.ReplaceAllStringFunc(s, func(m string) string {
			sub := schemeToken.FindStringSubmatch(m)
			if !looksLikeToken(sub[3]) {
				return m
			}
			return sub[1] + sub[2] + redacted
		})
	}
	if strings.Contains(s, "eyJ") {
		s = jwt.ReplaceAllString(s, redacted)
	}
	if containsAny(lower, "passw", "pwd", "secret", "token", "credential") {
		s = secretElement.ReplaceAllString(s, "${1}"+redacted)
		s = secretPair.ReplaceAllString(s, "${1}"+redacted)
	}
	return s
}

// containsAny reports whether s contains one of words.
func containsAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
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

// redactValue replaces sec in s, as it is and escaped as servers quote it:
// HTML and XML entities (named, decimal or hexadecimal), percent-encoding
// (either case of hex digit, "+" for a space) and JSON escapes, in any mix.
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
	// Every escape starts with one of these; without them only the
	// literal forms above can occur.
	if !strings.ContainsAny(s, escapeStarts) {
		return s
	}
	return redactEscaped(s, sec)
}

// escapeStarts are the bytes an escaped character starts with.
const escapeStarts = `%&\+`

// redactEscaped replaces every piece of s that decodes to sec, each byte
// as it is or escaped as servers quote text: HTML and XML entities (named,
// decimal, hexadecimal), percent-encoding (either case of hex digit, "+"
// for a space) and JSON escapes, in any mix.
func redactEscaped(s, sec string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != sec[0] && strings.IndexByte(escapeStarts, s[i]) < 0 {
			continue
		}
		budget := 8 * len(sec) // bounds the retries of ambiguous text
		if end, ok := matchEscaped(s, i, sec, &budget); ok {
			b.WriteString(s[last:i])
			b.WriteString(redacted)
			last, i = end, end-1
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// matchEscaped reports where the text from s[i] that decodes to sec ends.
func matchEscaped(s string, i int, sec string, budget *int) (int, bool) {
	if sec == "" {
		return i, true
	}
	if i >= len(s) || *budget <= 0 {
		return 0, false
	}
	*budget--
	if val, n := decodeEscape(s[i:]); n > 0 && strings.HasPrefix(sec, val) {
		if end, ok := matchEscaped(s, i+n, sec[len(val):], budget); ok {
			return end, true
		}
	}
	if s[i] == sec[0] {
		return matchEscaped(s, i+1, sec[1:], budget)
	}
	return 0, false
}

// decodeEscape decodes the escape s starts with, returning what it stands
// for and its length, or n == 0 if s starts with none.
func decodeEscape(s string) (val string, n int) {
	switch s[0] {
	case '+':
		return " ", 1
	case '%':
		if len(s) >= 3 {
			if v, err := strconv.ParseUint(s[1:3], 16, 8); err == nil {
				return string([]byte{byte(v)}), 3
			}
		}
	case '\\':
		if len(s) >= 2 && strings.IndexByte(`"\\/`, s[1]) >= 0 {
			return s[1:2], 2
		}
		if len(s) >= 6 && s[1] == 'u' {
			if v, err := strconv.ParseUint(s[2:6], 16, 16); err == nil {
				return string(rune(v)), 6
			}
		}
	case '&':
		end := strings.IndexByte(s, ';')
		if end < 2 || end > 12 {
			return "", 0
		}
		name := s[1:end]
		switch name {
		case "quot":
			return `"`, end + 1
		case "amp":
			return "&", end + 1
		case "apos":
			return "'", end + 1
		case "lt":
			return "<", end + 1
		case "gt":
			return ">", end + 1
		}
		var v uint64
		var err error
		switch {
		case len(name) > 2 && (name[:2] == "#x" || name[:2] == "#X"):
			v, err = strconv.ParseUint(name[2:], 16, 32)
		case len(name) > 1 && name[0] == '#':
			v, err = strconv.ParseUint(name[1:], 10, 32)
		default:
			return "", 0
		}
		if err == nil && v <= utf8.MaxRune {
			return string(rune(v)), end + 1
		}
	}
	return "", 0
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
