package scctest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
)

// Affinity: the fake places every mailbox on one of several named backend
// (mailbox) servers, as Exchange Online does, and keeps each notification
// subscription on the backend its Subscribe was routed to. Notification
// requests (Subscribe, GetEvents, GetStreamingEvents, Unsubscribe) are
// routed like Exchange's front end routes them (EWS-FACTS §2,
// EWS-FACTS-SYNC §10):
//
//  1. X-PreferServerAffinity: true with a valid X-BackEndOverrideCookie
//     (the request header of that name, else the cookie): the backend the
//     cookie names;
//  2. else X-AnchorMailbox naming a mailbox of the server: its backend;
//  3. else the mailbox the request acts as (the impersonated one, or the
//     caller's own): its backend;
//  4. else (a service account without mailbox, no anchor) the first
//     backend.
//
// A subscription asked for on another backend than the one it lives on is
// unknown there: ErrorSubscriptionNotFound, as Microsoft documents for a
// client that does not keep affinity. A notification request with
// X-PreferServerAffinity: true and no valid cookie gets
// Set-Cookie: X-BackEndOverrideCookie naming the backend it was routed to.
// A client that sends nothing special (own mailbox, or impersonation with
// X-AnchorMailbox set to the impersonated mailbox) stays on that mailbox's
// backend and never notices.

// DefaultBackendCount is how many backends a server has unless
// [WithBackends] names them: "SCCGRP0" ... "SCCGRP3" (the
// GroupingInformation values the fake reported before it modelled
// backends), so that tests see more than one group of mailboxes without
// configuring anything.
const DefaultBackendCount = 4

// backendCookie is the name of Exchange's backend routing cookie (and of
// the request header exchangelib sends it in).
const backendCookie = "X-BackEndOverrideCookie"

// maxBackends bounds WithBackends (a backend index is stored per
// subscription and per moved mailbox).
const maxBackends = 1024

func defaultBackends() []string {
	names := make([]string, DefaultBackendCount)
	for i := range names {
		names[i] = "SCCGRP" + strconv.Itoa(i)
	}
	return names
}

// WithBackends names the server's backend (mailbox) servers, replacing the
// default SCCGRP0 ... SCCGRP3. Each name is a DNS label (letters, digits and
// hyphens, at most 63 characters), unique regardless of case; it is also
// the GroupingInformation that Autodiscover reports for the backend's
// mailboxes. Mailboxes are spread over the backends by a hash (FNV-1a) of
// their primary address unless placed with [Server.SetMailboxBackend]. The
// default is [DefaultBackendCount] backends named SCCGRP0 ... SCCGRP3.
func WithBackends(names ...string) Option {
	return func(c *config) error {
		if len(names) == 0 || len(names) > maxBackends {
			return fmt.Errorf("scctest: WithBackends: %d names given; want 1 to %d", len(names), maxBackends)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if !isDNSLabel(n) {
				return fmt.Errorf("scctest: WithBackends: %q is not a backend name (a DNS label: letters, digits, hyphens, 1-63 characters)", clip(n, 80))
			}
			if seen[strings.ToLower(n)] {
				return fmt.Errorf("scctest: WithBackends: %q is given twice", n)
			}
			seen[strings.ToLower(n)] = true
		}
		c.backends = append([]string(nil), names...)
		return nil
	}
}

func isDNSLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// affinityState is where mailboxes placed by SetMailboxBackend live.
// Guarded by Server.mu.
type affinityState struct {
	placed map[*mailbox]int // backend index; others follow the hash
}

// affinityRoute is the backend a notification request was routed to.
type affinityRoute struct {
	backend int
	// cookie is true when a valid X-BackEndOverrideCookie routed it.
	cookie bool
}

// backendIndex returns the index of the backend named name, or -1.
func (s *Server) backendIndex(name string) int {
	for i, n := range s.cfg.backends {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// hashBackend is the default backend of an address.
func (s *Server) hashBackend(key string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(len(s.cfg.backends)))
}

// backendOf returns the backend index of mb. Callers hold mu.
func (s *Server) backendOf(mb *mailbox) int {
	if i, ok := s.aff.placed[mb]; ok {
		return i
	}
	return s.hashBackend(addrKey(mb.info.PrimarySMTP))
}

// Backends returns the names of the server's backends, in the order
// [WithBackends] gave them.
func (s *Server) Backends() []string { return append([]string(nil), s.cfg.backends...) }

// MailboxBackend returns the name of the backend the mailbox with address
// addr (any of its addresses) lives on.
func (s *Server) MailboxBackend(addr string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mb := s.dir.lookupAddr(addr)
	if mb == nil {
		return "", fmt.Errorf("%w: MailboxBackend: mailbox %q", ErrNotFound, clip(addr, 256))
	}
	return s.cfg.backends[s.backendOf(mb)], nil
}

// SetMailboxBackend places the mailbox with address addr on the backend
// named backend (a name of [WithBackends]; case does not matter). Its
// GroupingInformation follows (unless [Server.SetAutodiscoverUser] set
// one). Subscriptions made before stay on the backend they were made on,
// as the backend override cookie keeps routing a group whose anchor moved.
func (s *Server) SetMailboxBackend(addr, backend string) error {
	i := s.backendIndex(backend)
	if i < 0 {
		return fmt.Errorf("%w: SetMailboxBackend: backend %q (the server has %s)", ErrNotFound, clip(backend, 80), strings.Join(s.cfg.backends, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.dir.lookupAddr(addr)
	if mb == nil {
		return fmt.Errorf("%w: SetMailboxBackend: mailbox %q", ErrNotFound, clip(addr, 256))
	}
	if s.aff.placed == nil {
		s.aff.placed = map[*mailbox]int{}
	}
	s.aff.placed[mb] = i
	return nil
}

// GroupingInformation returns what Autodiscover's GroupingInformation
// setting says for addr: the one set with [Server.SetAutodiscoverUser],
// else the name of the mailbox's backend.
func (s *Server) GroupingInformation(addr string) (string, error) {
	u := s.autodiscoverUser(addr)
	if !u.found {
		return "", fmt.Errorf("%w: GroupingInformation: mailbox %q", ErrNotFound, clip(addr, 256))
	}
	return u.grouping, nil
}

// AffinityCookie returns the X-BackEndOverrideCookie value that routes to
// the named backend, as the server issues it: "<backend>.<DNS domain>~<n>"
// in lower case, where n is a number derived from a per-server secret, so
// that a tampered value or another server's is not taken (it is ignored,
// and routing falls back to X-AnchorMailbox). Clients must treat the value
// as opaque.
func (s *Server) AffinityCookie(backend string) (string, error) {
	i := s.backendIndex(backend)
	if i < 0 {
		return "", fmt.Errorf("%w: AffinityCookie: backend %q", ErrNotFound, clip(backend, 80))
	}
	return s.cookieFor(i), nil
}

func (s *Server) cookieFor(i int) string {
	fqdn := strings.ToLower(s.cfg.backends[i]) + "." + s.cfg.dnsDomain
	m := hmac.New(sha256.New, s.syncKey[:])
	m.Write([]byte("scctest-affinity\x00"))
	m.Write([]byte(fqdn))
	return fqdn + "~" + strconv.FormatUint(uint64(binary.BigEndian.Uint32(m.Sum(nil))), 10)
}

// parseCookie returns the backend a cookie value routes to, or -1 when the
// value is not one this server issued.
func (s *Server) parseCookie(v string) int {
	fqdn, _, ok := strings.Cut(v, "~")
	if !ok {
		return -1
	}
	name, ok := strings.CutSuffix(fqdn, "."+s.cfg.dnsDomain)
	if !ok {
		return -1
	}
	i := s.backendIndex(name)
	if i < 0 || !hmac.Equal([]byte(v), []byte(s.cookieFor(i))) {
		return -1
	}
	return i
}

// isNotificationOp reports whether op is notification traffic, which the
// front end routes by affinity.
func isNotificationOp(op string) bool {
	switch op {
	case "Subscribe", "GetEvents", "GetStreamingEvents", "Unsubscribe":
		return true
	}
	return false
}

// routeAffinity routes a notification request to a backend (see the top of
// this file) and, when the request asks for affinity without a valid
// cookie, sets the cookie on w. Other operations are not routed.
func (x *exchange) routeAffinity(w http.ResponseWriter) {
	if !isNotificationOp(x.op) {
		return
	}
	s, r := x.s, x.r
	prefer := strings.EqualFold(strings.TrimSpace(r.Header.Get("X-PreferServerAffinity")), "true")
	if prefer {
		// The header form (exchangelib) is the request's own choice and
		// wins over a cookie a shared jar may hold.
		vals := r.Header.Values(backendCookie)
		if c, err := r.Cookie(backendCookie); err == nil {
			vals = append(vals, c.Value)
		}
		for _, v := range vals {
			if i := s.parseCookie(strings.TrimSpace(v)); i >= 0 {
				x.aff = affinityRoute{backend: i, cookie: true}
				return
			}
		}
	}
	s.mu.RLock()
	x.aff = affinityRoute{backend: 0}
	anchor := strings.TrimSpace(r.Header.Get("X-AnchorMailbox"))
	switch mb := s.dir.lookupAddr(anchor); {
	case anchor != "" && mb != nil:
		x.aff.backend = s.backendOf(mb)
	case x.acting != nil:
		x.aff.backend = s.backendOf(x.acting)
	}
	s.mu.RUnlock()
	if prefer {
		http.SetCookie(w, &http.Cookie{Name: backendCookie, Value: s.cookieFor(x.aff.backend), Path: "/", Secure: r.TLS != nil, HttpOnly: true})
	}
}

// onBackend reports whether sub lives on the backend the request was
// routed to; elsewhere it does not exist.
func (x *exchange) onBackend(sub *subscription) bool { return sub.backend == x.aff.backend }
