package scctest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/sccsync/scc/ews"
)

// ConnectingSIDKind is the child of t:ConnectingSID an impersonated request
// used to name the mailbox.
type ConnectingSIDKind string

// The four ways to name the impersonated mailbox.
const (
	ByPrimarySmtpAddress ConnectingSIDKind = "PrimarySmtpAddress"
	BySmtpAddress        ConnectingSIDKind = "SmtpAddress"
	ByPrincipalName      ConnectingSIDKind = "PrincipalName"
	BySID                ConnectingSIDKind = "SID"
)

// Request is one entry of the request log: every HTTP request the server
// received, including refused logons and NTLM handshake legs. Its JSON form
// (the control API's) uses the tags below.
type Request struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	// Operation is the local name of the SOAP body element ("" when the
	// request did not get that far).
	Operation string `json:"operation,omitempty"`
	// AuthScheme and Principal say who was authenticated ("" if nobody).
	AuthScheme AuthScheme `json:"authScheme,omitempty"`
	Principal  string     `json:"principal,omitempty"`
	// ConnectingSIDKind and ConnectingSID are the impersonation header as
	// sent; Impersonated is the primary address of the mailbox it resolved
	// to ("" when absent or unresolved).
	ConnectingSIDKind ConnectingSIDKind `json:"connectingSidKind,omitempty"`
	ConnectingSID     string            `json:"connectingSid,omitempty"`
	Impersonated      string            `json:"impersonated,omitempty"`
	// AnchorMailbox is the X-AnchorMailbox header.
	AnchorMailbox string `json:"anchorMailbox,omitempty"`
	// RequestServerVersion is the Version of t:RequestServerVersion ("" when
	// the header was absent).
	RequestServerVersion string `json:"requestServerVersion,omitempty"`
	// StatusCode is the HTTP status answered (0 for a dropped connection).
	StatusCode int `json:"statusCode"`
	// Fault is the SOAP fault code when the answer was a fault.
	Fault ews.ResponseCode `json:"fault,omitempty"`
	// ResponseCodes are the codes of the response messages, in order.
	ResponseCodes []ews.ResponseCode `json:"responseCodes,omitempty"`
}

// Stats are the server's counters.
type Stats struct {
	// Requests counts all HTTP requests.
	Requests int `json:"requests"`
	// Operations counts requests per operation that passed authentication
	// and envelope checks.
	Operations map[string]int `json:"operations"`
	// StatusCodes counts answers per HTTP status.
	StatusCodes map[int]int `json:"statusCodes"`
	// Faults counts SOAP faults per code.
	Faults map[ews.ResponseCode]int `json:"faults"`
	// ResponseCodes counts response messages per code (including NoError).
	ResponseCodes map[ews.ResponseCode]int `json:"responseCodes"`
	// FailedLogons counts refused Basic/NTLM/Bearer logons per account,
	// keyed by the account's logon as registered (AddServiceAccount's
	// logon, a mailbox owner's UPN), lowercased, whichever of its names the
	// client used; a name no account answers to is keyed as presented,
	// lowercased (DOMAIN\user or user@domain), and unknown bearer tokens
	// as "bearer".
	FailedLogons map[string]int `json:"failedLogons"`
	// Dropped counts connections closed by DropConnection faults and
	// streams cut by DropStreams.
	Dropped int `json:"dropped"`
}

// FailedLogonsFor returns the failed logons counted under name, compared
// case-insensitively (the keys of FailedLogons are lowercased): the logon
// of an account as registered, or a name no account answers to as
// presented. Use [Server.FailedLogons] to look an account up by any of its
// names.
func (st Stats) FailedLogonsFor(name string) int {
	return st.FailedLogons[strings.ToLower(strings.TrimSpace(name))]
}

func newStats() Stats {
	return Stats{
		Operations:    map[string]int{},
		StatusCodes:   map[int]int{},
		Faults:        map[ews.ResponseCode]int{},
		ResponseCodes: map[ews.ResponseCode]int{},
		FailedLogons:  map[string]int{},
	}
}

// The request log's default bounds, see [WithRequestLog].
const (
	// DefaultLogEntries is how many entries the request log keeps at most.
	DefaultLogEntries = 100000
	// DefaultLogBytes bounds the request log's estimated size.
	DefaultLogBytes = 64 << 20
	// DefaultLogValueBytes is how long a value the log stores may be.
	DefaultLogValueBytes = 1024
)

// maxFailedLogonNames is how many distinct names Stats.FailedLogons keys;
// failures under further names count under otherFailedLogons.
const maxFailedLogonNames = 10000

// otherFailedLogons is the FailedLogons key of names past the limit.
const otherFailedLogons = "(other)"

// WithRequestLog bounds the request log ([Server.Requests]): it keeps the
// newest entries, at most DefaultLogEntries of them and at most maxBytes of
// estimated memory, and every string it stores (path, method, principal,
// X-AnchorMailbox, ConnectingSID, RequestServerVersion, and the names of
// Stats.FailedLogons) is clipped to maxValue bytes: a longer value keeps its
// first maxValue bytes (cut at a character boundary) followed by
// "…(+N bytes)". The defaults are DefaultLogBytes (64 MiB) and
// DefaultLogValueBytes (1 KiB). Counters ([Server.Stats]) count every
// request however the log is trimmed.
func WithRequestLog(maxBytes int64, maxValue int) Option {
	return func(c *config) error {
		if maxBytes <= 0 || maxValue <= 0 {
			return fmt.Errorf("scctest: WithRequestLog(%d, %d): both bounds must be positive", maxBytes, maxValue)
		}
		c.logBytes, c.logValue = maxBytes, maxValue
		return nil
	}
}

// clip bounds a value the log stores. The clipped value is a copy, so the
// request's (possibly huge) original is not kept alive.
func clip(v string, n int) string {
	if len(v) <= n {
		return v
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strings.Clone(v[:cut]) + "…(+" + strconv.Itoa(len(v)-cut) + " bytes)"
}

// entrySize estimates the memory one log entry holds.
func entrySize(r *Request) int64 {
	n := int(unsafe.Sizeof(*r)) + len(r.Method) + len(r.Path) + len(r.Operation) + len(r.AuthScheme) +
		len(r.Principal) + len(r.ConnectingSIDKind) + len(r.ConnectingSID) + len(r.Impersonated) +
		len(r.AnchorMailbox) + len(r.RequestServerVersion) + len(r.Fault) +
		cap(r.ResponseCodes)*int(unsafe.Sizeof(ews.ResponseCode("")))
	return int64(n)
}

// requestLog is a ring of the newest entries, bounded by count and by
// estimated bytes. A ring (rather than a slice trimmed at the front) keeps
// one array of at most the entry bound, without the copies and growth
// garbage of re-slicing.
type requestLog struct {
	buf   []Request
	start int   // index of the oldest entry
	n     int   // number of entries
	bytes int64 // estimated size of the entries
}

// push appends e, dropping the oldest entries to stay within maxEntries and
// maxBytes.
func (l *requestLog) push(e Request, maxEntries int, maxBytes int64) {
	if l.n == len(l.buf) {
		if len(l.buf) < maxEntries {
			grown := make([]Request, min(max(2*len(l.buf), 64), maxEntries))
			l.n = l.copyTo(grown)
			l.buf, l.start = grown, 0
		} else {
			l.dropOldest()
		}
	}
	l.buf[(l.start+l.n)%len(l.buf)] = e
	l.n++
	l.bytes += entrySize(&e)
	for l.n > 0 && l.bytes > maxBytes {
		l.dropOldest()
	}
}

func (l *requestLog) dropOldest() {
	old := &l.buf[l.start]
	l.bytes -= entrySize(old)
	*old = Request{}
	l.start = (l.start + 1) % len(l.buf)
	l.n--
}

// copyTo copies the entries, oldest first, into dst and returns how many.
func (l *requestLog) copyTo(dst []Request) int {
	if l.n == 0 {
		return 0
	}
	end := l.start + l.n
	if end <= len(l.buf) {
		return copy(dst, l.buf[l.start:end])
	}
	k := copy(dst, l.buf[l.start:])
	return k + copy(dst[k:], l.buf[:end-len(l.buf)])
}

// list returns a copy of the entries, oldest first.
func (l *requestLog) list() []Request {
	out := make([]Request, l.n)
	l.copyTo(out)
	return out
}

// requestVersionList is every t:ExchangeVersionType value, for fromList.
const requestVersionList = " Exchange2007 Exchange2007_SP1 Exchange2009 Exchange2010 Exchange2010_SP1 Exchange2010_SP2 Exchange2012 Exchange2013 Exchange2013_SP1 Exchange2015 Exchange2016 V2015_10_05 V2016_01_06 V2016_04_13 V2016_07_13 V2016_10_10 V2017_01_07 V2017_04_14 V2017_07_11 V2017_10_09 V2018_01_08 "

// fromList returns v as a substring of list (words between single spaces,
// with a space at each end) when it is one of its words, else v: log
// entries then share the constant instead of keeping the request's copy.
func fromList(v, list string) string {
	if v == "" || strings.IndexByte(v, ' ') >= 0 {
		return v
	}
	if i := strings.Index(list, " "+v+" "); i >= 0 {
		return list[i+1 : i+1+len(v)]
	}
	return v
}

// share returns the first of known equal to v, else v.
func share(v string, known ...string) string {
	for _, k := range known {
		if v == k {
			return k
		}
	}
	return v
}

// compact makes a log entry share the strings the server holds anyway
// (constants, the principal's and the mailbox's names) instead of keeping
// each request's copies; values stay as sent.
func compact(e *Request) {
	e.Method = share(e.Method, http.MethodPost, http.MethodGet)
	e.Path = share(e.Path, EWSPath)
	e.Operation = fromList(e.Operation, schemaOperations)
	e.ConnectingSIDKind = ConnectingSIDKind(share(string(e.ConnectingSIDKind),
		string(ByPrimarySmtpAddress), string(BySmtpAddress), string(ByPrincipalName), string(BySID)))
	e.ConnectingSID = share(e.ConnectingSID, e.Impersonated, e.Principal)
	e.AnchorMailbox = share(e.AnchorMailbox, e.Impersonated, e.Principal)
	e.RequestServerVersion = fromList(e.RequestServerVersion, requestVersionList)
}

// record appends a log entry and updates counters.
func (s *Server) record(r *Request) {
	n := s.cfg.logValue
	e := *r
	compact(&e)
	e.Method, e.Path, e.Operation = clip(e.Method, n), clip(e.Path, n), clip(e.Operation, n)
	e.Principal, e.Impersonated = clip(e.Principal, n), clip(e.Impersonated, n)
	e.ConnectingSIDKind = ConnectingSIDKind(clip(string(e.ConnectingSIDKind), n))
	e.ConnectingSID, e.AnchorMailbox = clip(e.ConnectingSID, n), clip(e.AnchorMailbox, n)
	e.RequestServerVersion = clip(e.RequestServerVersion, n)
	e.ResponseCodes = slices.Clip(e.ResponseCodes)
	s.lmu.Lock()
	s.log.push(e, DefaultLogEntries, s.cfg.logBytes)
	st := &s.stats
	st.Requests++
	if r.Operation != "" {
		st.Operations[r.Operation]++
	}
	if r.StatusCode == 0 {
		st.Dropped++
	} else {
		st.StatusCodes[r.StatusCode]++
	}
	if r.Fault != "" {
		st.Faults[r.Fault]++
	}
	for _, c := range r.ResponseCodes {
		st.ResponseCodes[c]++
	}
	s.lmu.Unlock()
	if l := s.cfg.logger; l != nil {
		l.Debug("scctest request", "method", e.Method, "operation", e.Operation, "principal", e.Principal,
			"impersonated", e.Impersonated, "status", e.StatusCode, "fault", string(e.Fault))
	}
}

func (s *Server) countFailedLogon(name string) {
	key := clip(strings.ToLower(name), s.cfg.logValue)
	s.lmu.Lock()
	defer s.lmu.Unlock()
	fl := s.stats.FailedLogons
	if _, ok := fl[key]; !ok && len(fl) >= maxFailedLogonNames {
		key = otherFailedLogons
	}
	fl[key]++
}

// Requests returns a copy of the request log, oldest first: the newest
// entries within the bounds of [WithRequestLog] (by default up to 100,000
// entries and 64 MiB), values clipped as it says.
func (s *Server) Requests() []Request {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	out := s.log.list()
	for i := range out {
		out[i].ResponseCodes = append([]ews.ResponseCode(nil), out[i].ResponseCodes...)
	}
	return out
}

// ResetRequests clears the request log and counters.
func (s *Server) ResetRequests() {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.log = requestLog{}
	s.stats = newStats()
}

// FailedLogons returns the failed logons of an account named by any of its
// logon names (DOMAIN\user, user@dnsdomain, a mailbox owner's UPN), in any
// case; for a name no account answers to, the failures counted under that
// name as presented.
func (s *Server) FailedLogons(name string) int {
	key := strings.TrimSpace(name)
	s.mu.RLock()
	if acc := s.accountByLogonLocked(key); acc != nil {
		key = acc.logon
	}
	s.mu.RUnlock()
	key = clip(strings.ToLower(key), s.cfg.logValue)
	s.lmu.Lock()
	defer s.lmu.Unlock()
	return s.stats.FailedLogons[key]
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	st := s.stats
	st.Operations = maps.Clone(st.Operations)
	st.StatusCodes = maps.Clone(st.StatusCodes)
	st.Faults = maps.Clone(st.Faults)
	st.ResponseCodes = maps.Clone(st.ResponseCodes)
	st.FailedLogons = maps.Clone(st.FailedLogons)
	return st
}

// AssertRequestCount fails t unless exactly want requests of the operation
// ("" for any operation) reached the server's operation dispatch.
func (s *Server) AssertRequestCount(t testing.TB, operation string, want int) {
	t.Helper()
	got := 0
	for _, r := range s.Requests() {
		if r.Operation != "" && (operation == "" || r.Operation == operation) {
			got++
		}
	}
	if got != want {
		t.Errorf("scctest: %s requests = %d, want %d", opName(operation), got, want)
	}
}

// AssertImpersonated fails t unless at least one request impersonated the
// mailbox (named by any of its addresses).
func (s *Server) AssertImpersonated(t testing.TB, mailbox string) {
	t.Helper()
	primary := s.primaryOf(mailbox)
	for _, r := range s.Requests() {
		if r.Impersonated != "" && strings.EqualFold(r.Impersonated, primary) {
			return
		}
	}
	t.Errorf("scctest: no request impersonated %s", mailbox)
}

// AssertAnchorMailbox fails t for every impersonated request whose
// X-AnchorMailbox header did not name the impersonated mailbox (Microsoft:
// it "should always be correctly set" with impersonation).
func (s *Server) AssertAnchorMailbox(t testing.TB) {
	t.Helper()
	for _, r := range s.Requests() {
		if r.Impersonated == "" {
			continue
		}
		if anchor := s.primaryOf(r.AnchorMailbox); !strings.EqualFold(anchor, r.Impersonated) {
			t.Errorf("scctest: %s request impersonating %s had X-AnchorMailbox %q, want that mailbox", r.Operation, r.Impersonated, r.AnchorMailbox)
		}
	}
}

// AssertNotImpersonated fails t if any request impersonated the mailbox.
func (s *Server) AssertNotImpersonated(t testing.TB, mailbox string) {
	t.Helper()
	primary := s.primaryOf(mailbox)
	for _, r := range s.Requests() {
		if r.Impersonated != "" && strings.EqualFold(r.Impersonated, primary) {
			t.Errorf("scctest: %s request impersonated %s, want none", r.Operation, mailbox)
			return
		}
	}
}

// AssertFaultCount fails t unless exactly want SOAP faults of code were
// answered.
func (s *Server) AssertFaultCount(t testing.TB, code ews.ResponseCode, want int) {
	t.Helper()
	if got := s.Stats().Faults[code]; got != want {
		t.Errorf("scctest: %s faults = %d, want %d", code, got, want)
	}
}

// primaryOf maps any address of a mailbox to its primary address.
func (s *Server) primaryOf(addr string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if mb := s.dir.lookupAddr(addr); mb != nil {
		return mb.info.PrimarySMTP
	}
	return addr
}

func opName(op string) string {
	if op == "" {
		return "all"
	}
	return op
}
