package ews

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// call builds the request of op, sends it (with retries) and returns the
// parsed response, which holds the operation's response element. Every
// request-level failure comes back as one of the package's error types.
func (c *Client) call(ctx context.Context, op *operation, opts []CallOption, body func(*etree.Element) error) (*soapResponse, error) {
	if ctx == nil {
		return nil, invalidf("%s: context is nil", op.name)
	}
	o, err := c.resolve(opts)
	if err != nil {
		return nil, err
	}
	if err := o.checkAffinity(op); err != nil {
		return nil, err
	}
	h := envelopeHeader{version: c.cfg.version, timeZone: c.cfg.timeZone}
	if o.impersonate {
		h.sid = &o.sid
	}
	payload, err := buildEnvelope(op, h, body)
	if err != nil {
		return nil, err
	}
	policy := c.cfg.retry
	if o.retry != nil {
		policy = *o.retry
	}
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, op, &o, payload, attempt)
		if err == nil {
			return resp, nil
		}
		wait, ok := policy.decide(ctx, op, attempt, waited, err)
		if !ok {
			return nil, err
		}
		if c.cfg.retryHook != nil {
			c.cfg.retryHook(RetryEvent{Operation: op.name, Attempt: attempt, Wait: wait, Err: err, Impersonated: o.sid})
		}
		if l := c.cfg.logger; l != nil {
			l.LogAttrs(ctx, slog.LevelWarn, "ews retry", slog.String("operation", op.name),
				slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()),
				slog.String("impersonated", impersonatedAttr(&o)))
		}
		if serr := sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("ews: %s: %w while waiting to retry after: %w", op.name, serr, err)
		}
		waited += wait
	}
}

func impersonatedAttr(o *callOptions) string {
	if !o.impersonate {
		return ""
	}
	return o.sid.String()
}

// attempt sends payload once and interprets the answer.
func (c *Client) attempt(ctx context.Context, op *operation, o *callOptions, payload []byte, n int) (*soapResponse, error) {
	start := time.Now()
	// Whether any request headers reached the wire decides whether a
	// failed request may have been acted on (and so must not be repeated
	// blindly). A TLS handshake that fails, like a dial that fails, writes
	// nothing.
	var wrote atomic.Bool
	if c.cfg.writesTraced {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpointStr, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("ews: %s: %w", op.name, err)
	}
	hdr := make(http.Header, 6)
	hdr["Content-Type"] = []string{"text/xml; charset=utf-8"}
	hdr["Accept"] = []string{"text/xml"}
	hdr["User-Agent"] = []string{c.cfg.userAgent}
	if o.anchor != "" {
		hdr["X-Anchormailbox"] = []string{o.anchor}
	}
	if o.affinity {
		hdr["X-Preferserveraffinity"] = []string{"true"}
	}
	req.Header = hdr

	resp, err := o.do(c.http, req)
	if err != nil {
		c.logRequest(ctx, op, o, n, 0, start, err)
		maybeSent := !dialFailed(err)
		if c.cfg.writesTraced {
			maybeSent = wrote.Load()
		}
		return nil, &TransportError{Operation: op.name, MaybeSent: maybeSent, Err: err, callerDone: ctx.Err() != nil}
	}
	defer resp.Body.Close()
	data, err := readBody(resp, c.cfg.maxResponseBytes)
	if err != nil {
		c.logRequest(ctx, op, o, n, resp.StatusCode, start, err)
		if errors.Is(err, ErrResponseTooLarge) {
			return nil, &HTTPError{Operation: op.name, StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
				Reason:  fmt.Sprintf("the response body is larger than the limit of %d bytes (WithMaxResponseBytes)", c.cfg.maxResponseBytes),
				Excerpt: excerpt(data, c.cfg.red), Err: ErrResponseTooLarge}
		}
		return nil, &TransportError{Operation: op.name, MaybeSent: true, callerDone: ctx.Err() != nil,
			Err: fmt.Errorf("HTTP %d response cut off after %d bytes: %w", resp.StatusCode, len(data), err)}
	}
	r, err := c.interpret(ctx, op, resp, data)
	c.logRequest(ctx, op, o, n, resp.StatusCode, start, err)
	return r, err
}

func (c *Client) logRequest(ctx context.Context, op *operation, o *callOptions, attempt, status int, start time.Time, err error) {
	l := c.cfg.logger
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("operation", op.name), slog.Int("attempt", attempt), slog.Int("status", status),
		slog.Duration("duration", time.Since(start)), slog.String("impersonated", impersonatedAttr(o)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.LogAttrs(ctx, slog.LevelDebug, "ews request", attrs...)
}

// readBody reads at most limit bytes of the body. It returns
// ErrResponseTooLarge (with the first bytes) when there is more.
//
// Memory stays near the body's size: a body with a Content-Length is read
// into one buffer of that size, and one without it into chunks (4 KiB
// doubling up to 256 KiB) that are joined once at the end, so a body costs
// at most twice its size while it is read, and one larger than the limit at
// most the limit, instead of a buffer that doubles past it.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		head := make([]byte, 512)
		n, _ := io.ReadFull(resp.Body, head)
		return head[:n], ErrResponseTooLarge
	}
	if resp.ContentLength >= 0 {
		// net/http never returns more than Content-Length; another
		// RoundTripper might, and then the body is too large.
		buf := make([]byte, resp.ContentLength)
		n, err := io.ReadFull(resp.Body, buf)
		if err == io.ErrUnexpectedEOF || (err == io.EOF && n < len(buf)) {
			return buf[:n], err
		}
		var one [1]byte
		if m, _ := resp.Body.Read(one[:]); m > 0 && int64(n) >= limit {
			return buf[:min(n, 512)], ErrResponseTooLarge
		}
		return buf[:n], nil
	}
	var chunks [][]byte
	var total int64
	size := int64(4 << 10)
	for {
		c := make([]byte, min(size, limit+1-total))
		n, err := io.ReadFull(resp.Body, c)
		chunks = append(chunks, c[:n])
		total += int64(n)
		if total > limit {
			head := chunks[0]
			return append([]byte(nil), head[:min(len(head), 512)]...), ErrResponseTooLarge
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return bytes.Join(chunks, nil), err
		}
		size = min(2*size, 256<<10)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	return bytes.Join(chunks, nil), nil
}

// interpret maps an HTTP response to the parsed SOAP response or an error.
// Parsing stops when ctx ends.
func (c *Client) interpret(ctx context.Context, op *operation, resp *http.Response, data []byte) (*soapResponse, error) {
	status := resp.StatusCode
	ct := resp.Header.Get("Content-Type")
	if status == http.StatusUnauthorized {
		ae := &AuthError{Operation: op.name, StatusCode: status, Offered: offeredSchemes(resp.Header.Values("WWW-Authenticate")),
			Diagnostics: clip(c.cfg.red.redact(strings.TrimSpace(resp.Header.Get("X-Ms-Diagnostics"))))}
		if c.cfg.auth != nil {
			ae.Scheme = c.cfg.auth.scheme()
		}
		return nil, ae
	}
	httpErr := func(reason string, err error) *HTTPError {
		// The reason and the parse error may quote the body (an element
		// name, a token the XML decoder choked on).
		he := &HTTPError{Operation: op.name, StatusCode: status, ContentType: ct, Reason: c.cfg.red.redact(reason),
			Excerpt: excerpt(data, c.cfg.red), Err: c.cfg.red.redactError(err)}
		if status >= 300 && status < 400 {
			// Redacted before and after: parsing cuts the text at a "#" or "?"
			// that may stand inside an escaped credential.
			he.Location = c.cfg.red.redact(sanitizeLocation(c.cfg.red.redact(resp.Header.Get("Location"))))
		}
		return he
	}

	isXML, ctOK := xmlContent(ct, data)
	var soap *soapResponse
	var parseErr error
	if isXML && len(bytes.TrimSpace(data)) > 0 {
		soap, parseErr = parseSOAP(ctx, data)
		if ctxErr := ctx.Err(); ctxErr != nil && parseErr != nil && errors.Is(parseErr, ctxErr) {
			return nil, &TransportError{Operation: op.name, MaybeSent: true, Err: parseErr, callerDone: true}
		}
		if parseErr == nil {
			soap.red = c.cfg.red
			if f := soap.fault(); f != nil {
				fe := parseFault(f, op.name, status, c.cfg.red)
				if fe.Code == ErrorServerBusy {
					d, _ := fe.MessageXML.backOff()
					return nil, &ThrottledError{Operation: op.name, BackOff: d, StatusCode: status, Err: fe}
				}
				return nil, fe
			}
		}
	}
	switch {
	case status == http.StatusServiceUnavailable:
		d := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return nil, &ThrottledError{Operation: op.name, BackOff: d, StatusCode: status,
			Err: httpErr("the server is queuing requests (throttling)", nil)}
	case status != http.StatusOK && status != http.StatusInternalServerError:
		return nil, httpErr("", nil)
	case !ctOK:
		return nil, httpErr(fmt.Sprintf("the response has content type %q instead of text/xml (a login or error page from a proxy?)", ct), nil)
	case len(bytes.TrimSpace(data)) == 0:
		return nil, httpErr("the response body is empty", nil)
	case !isXML:
		return nil, httpErr("the response body is not XML (a login or error page from a proxy?)", nil)
	case parseErr != nil:
		return nil, httpErr("the response is not a well-formed SOAP envelope (truncated?)", parseErr)
	case status == http.StatusInternalServerError:
		return nil, httpErr("HTTP 500 without a SOAP fault", nil)
	}
	want := op.name + "Response"
	if soap.body.Tag != want || soap.body.NamespaceURI() != NamespaceMessages {
		return nil, httpErr(fmt.Sprintf("the SOAP body holds %s instead of m:%s", soap.body.Tag, want), nil)
	}
	if te := throttledBatch(op, soap, status); te != nil {
		return nil, te
	}
	return soap, nil
}

// throttledBatch returns a *ThrottledError when every response message is
// ErrorServerBusy: the server refused the whole request, which is then as
// safe to repeat as a fault.
func throttledBatch(op *operation, soap *soapResponse, status int) *ThrottledError {
	msgs := soap.responseMessages()
	if len(msgs) == 0 {
		return nil
	}
	var first *ResponseError
	for i, e := range msgs {
		m := parseResponseMessage(e, soap.red)
		if m.Class != ClassError || m.Code != ErrorServerBusy {
			return nil
		}
		if first == nil {
			first = m.err(op.name, i).(*ResponseError)
		}
	}
	d, _ := first.MessageXML.backOff()
	return &ThrottledError{Operation: op.name, BackOff: d, StatusCode: status, Err: first}
}

// xmlContent reports whether the body should be parsed as XML, and whether
// the content type is acceptable for a SOAP response (an XML type, or none
// at all with a body that starts like XML).
func xmlContent(ct string, data []byte) (isXML, ok bool) {
	looksXML := bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\ufeff"), []byte("<"))
	if ct == "" {
		return looksXML, looksXML
	}
	if strings.HasPrefix(ct, "text/xml;") || ct == "text/xml" {
		return looksXML, true // what Exchange sends; skip the full parse
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, false
	}
	switch {
	case mt == "text/xml", mt == "application/xml", mt == "application/soap+xml", strings.HasSuffix(mt, "+xml"):
		return looksXML, true
	}
	return false, false
}

// offeredSchemes returns the auth scheme names of WWW-Authenticate values,
// e.g. ["Negotiate", "NTLM"], without parameters or tokens.
func offeredSchemes(values []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, part := range splitChallenges(v) {
			part = strings.TrimSpace(part)
			word, _, _ := strings.Cut(part, " ")
			if word == "" || strings.ContainsAny(word, "=\"") || !isToken(word) {
				continue
			}
			key := strings.ToLower(word)
			if !seen[key] {
				seen[key] = true
				out = append(out, word)
			}
		}
	}
	return out
}

// splitChallenges splits a header value on commas outside quoted strings.
func splitChallenges(v string) []string {
	var parts []string
	inQuote, escaped, start := false, false, 0
	for i := 0; i < len(v); i++ {
		switch ch := v[i]; {
		case escaped:
			escaped = false
		case ch == '\\' && inQuote:
			escaped = true
		case ch == '"':
			inQuote = !inQuote
		case ch == ',' && !inQuote:
			parts = append(parts, v[start:i])
			start = i + 1
		}
	}
	return append(parts, v[start:])
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// sanitizeLocation keeps scheme, host and path of a redirect target: no
// query (which may carry tokens) and nothing that is not printable.
func sanitizeLocation(loc string) string {
	u, err := url.Parse(strings.TrimSpace(loc))
	if err != nil || loc == "" {
		return ""
	}
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	return clip(excerptText(u.String()))
}

const excerptMax = 200

// excerptScan is how much of a body excerpt looks at, and excerptSlack
// how much more it redacts so that a credential across that cut is seen.
const (
	excerptScan  = 8192
	excerptSlack = 4096
)

// excerpt returns the start of a body for an error message: for HTML the
// title and text without markup, control characters removed, whitespace
// collapsed, password-like values redacted, at most excerptMax bytes.
func excerpt(data []byte, red *redactor) string {
	// Redact before cutting, so that a secret across the cut is found
	// whole; the window past the cut holds the longest escaped form.
	cut := len(data) > excerptScan
	if len(data) > excerptScan+excerptSlack {
		data = data[:excerptScan+excerptSlack]
	}
	s := string(data)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = red.redact(s)
	if cut && len(s) > excerptScan {
		// Drop the word the cut falls in: it may begin a credential
		// that redaction of the shortened text no longer sees whole.
		s = s[:excerptScan]
		if i := strings.LastIndexAny(s, " \t\r\n<>"); i >= 0 {
			s = s[:i]
		}
	}
	s = stripMarkup(s)
	s = excerptText(s)
	if len(s) > excerptMax {
		cut := excerptMax
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// stripMarkup removes tags, comments and the content of script and style
// elements, keeping text.
func stripMarkup(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	lower := asciiLower(s) // same byte length as s, unlike strings.ToLower
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			b.WriteByte(' ')
			i += j
			continue
		}
		for _, skip := range []string{"script", "style"} {
			if strings.HasPrefix(lower[i+1:], skip) {
				if end := strings.Index(lower[i:], "</"+skip); end >= 0 {
					i += end
				}
			}
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i:], "-->")
			if end < 0 {
				break
			}
			i += end + 3
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			break
		}
		i += end + 1
	}
	return b.String()
}

// asciiLower lowers A-Z only, keeping every byte offset of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// excerptText drops control characters and collapses whitespace.
func excerptText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || r == utf8.RuneError || !unicode.IsPrint(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() > 4*excerptMax {
			break
		}
	}
	return b.String()
}
