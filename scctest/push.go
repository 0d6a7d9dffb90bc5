package scctest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sccsync/scc/ews"
)

// Push notifications: the fake POSTs m:SendNotification to the URL of each
// push subscription, one goroutine per subscription, outside the server
// lock. See the README's "Push notifications" section for the schedule.

// PushTiming sets the clock of push notifications. A zero field keeps its
// default.
type PushTiming struct {
	// Minute is how long one minute of StatusFrequency lasts (default
	// time.Minute). The idle StatusEvent comes every StatusFrequency
	// minutes, the first retry of a failed POST half a minute after it,
	// and retries stop when the next would come later than StatusFrequency
	// minutes after the first attempt. Tests shorten it so that they need
	// not wait minutes.
	Minute time.Duration
	// Timeout bounds one POST to the callback: connecting, the TLS
	// handshake, sending the notification and reading the answer (default
	// [DefaultPushTimeout]). A callback slower than that counts as not
	// answering and is retried.
	Timeout time.Duration
}

// DefaultPushTimeout bounds one push POST unless [WithPushTiming] says
// otherwise (Exchange does not document its own).
const DefaultPushTimeout = 30 * time.Second

// pushMaxAnswer is the most of a callback's answer the fake reads; a
// SendNotificationResult is a few hundred bytes.
const pushMaxAnswer = 64 << 10

// pushConfig is what the push options set.
type pushConfig struct {
	minute  time.Duration
	timeout time.Duration
	roots   *x509.CertPool
	hosts   map[string]bool // lower-cased host names and IPs besides loopback
}

func (c pushConfig) unit() time.Duration {
	if c.minute > 0 {
		return c.minute
	}
	return time.Minute
}

func (c pushConfig) postTimeout() time.Duration {
	if c.timeout > 0 {
		return c.timeout
	}
	return DefaultPushTimeout
}

// WithPushTiming sets the length of a StatusFrequency minute and the
// timeout of one push POST (see [PushTiming]); negative durations are
// refused.
func WithPushTiming(t PushTiming) Option {
	return func(c *config) error {
		if t.Minute < 0 || t.Timeout < 0 {
			return fmt.Errorf("scctest: WithPushTiming(%+v): durations must not be negative", t)
		}
		if t.Minute > 0 {
			c.push.minute = t.Minute
		}
		if t.Timeout > 0 {
			c.push.timeout = t.Timeout
		}
		return nil
	}
}

// WithPushRootCAs sets the certificate authorities the server trusts when
// it POSTs push notifications to an https URL (default: the system's). For
// a callback on [httptest.NewTLSServer], pass a pool holding its
// Certificate().
func WithPushRootCAs(pool *x509.CertPool) Option {
	return func(c *config) error {
		if pool == nil {
			return errors.New("scctest: WithPushRootCAs(nil)")
		}
		c.push.roots = pool
		return nil
	}
}

// WithPushHosts lets push notifications go to these hosts (names or IP
// addresses, without ports) besides loopback. By default the server only
// connects to loopback addresses (127.0.0.0/8, ::1, and names such as
// localhost that resolve to them): a subscription to any other host is
// accepted, as Exchange accepts it, but its POSTs fail as if the host were
// unreachable, so it is retried and dropped.
func WithPushHosts(hosts ...string) Option {
	return func(c *config) error {
		if c.push.hosts == nil {
			c.push.hosts = map[string]bool{}
		}
		for _, h := range hosts {
			h = strings.ToLower(strings.Trim(h, "[]"))
			if h == "" || strings.ContainsAny(h, "/:@ ") && net.ParseIP(h) == nil {
				return fmt.Errorf("scctest: WithPushHosts: %q is not a host name or IP address", h)
			}
			c.push.hosts[h] = true
		}
		return nil
	}
}

// errPushHost is the dial error for a host the server may not reach.
var errPushHost = errors.New("scctest: push callbacks go only to loopback addresses and the hosts of WithPushHosts")

// pushRunner runs the delivery goroutines of a server. Close stops them.
type pushRunner struct {
	mu     sync.Mutex
	closed bool
	client *http.Client
	wg     sync.WaitGroup
}

// pushSub is what a push subscription adds to a subscription. Its fields
// are set by Subscribe and read-only afterwards.
type pushSub struct {
	url      string
	freq     int           // StatusFrequency in minutes
	version  string        // RequestServerVersion of the Subscribe request
	caller   string        // CallerData, kept (NotificationType has no place for it)
	stop     chan struct{} // closed when the subscription is removed
	stopOnce sync.Once
}

// end tells the delivery goroutine that the subscription is gone.
func (p *pushSub) end() { p.stopOnce.Do(func() { close(p.stop) }) }

// newPushClient builds the client of push POSTs: its own transport with
// timeouts, no proxy, no redirects, dialing only allowed addresses.
func (s *Server) newPushClient() *http.Client {
	pc := s.cfg.push
	timeout := pc.postTimeout()
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		d := net.Dialer{Timeout: timeout}
		if !pc.hosts[strings.ToLower(host)] {
			d.Control = func(_, address string, _ syscall.RawConn) error {
				h, _, err := net.SplitHostPort(address)
				if ip := net.ParseIP(h); err != nil || ip == nil || !ip.IsLoopback() {
					return errPushHost
				}
				return nil
			}
		}
		return d.DialContext(ctx, network, addr)
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer,
		TLSClientConfig:       &tls.Config{RootCAs: pc.roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// startPush starts the delivery goroutine of a new push subscription.
// Called under s.mu by Subscribe.
func (s *Server) startPush(sub *subscription) {
	r := &s.push
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.client == nil {
		r.client = s.newPushClient()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer s.pushPanic(sub)
		s.runPush(sub, r.client)
	}()
}

// pushPanic turns a panic of a delivery goroutine into the end of that
// subscription (and a failure of the test of a NewServer(t) server), as a
// handler panic fails only its request.
func (s *Server) pushPanic(sub *subscription) {
	v := recover()
	if v == nil {
		return
	}
	msg := fmt.Sprintf("scctest: panic delivering push notifications of %s: %v\n%s", sub.id, v, debug.Stack())
	if s.tb != nil {
		s.tb.Errorf("%s", msg)
	}
	s.dropPush(sub, "panic: "+fmt.Sprint(v))
}

// stopPush ends every delivery goroutine, cutting POSTs in flight, and
// waits for them. Called by Close.
func (s *Server) stopPush() {
	r := &s.push
	r.mu.Lock()
	r.closed = true
	c := r.client
	r.mu.Unlock()
	r.wg.Wait()
	if c != nil {
		c.CloseIdleConnections()
	}
}

// pushAnswer is the outcome of one POST.
type pushAnswer uint8

const (
	pushFailed pushAnswer = iota
	pushKeep
	pushEnd
)

// runPush delivers the notifications of one subscription until the
// callback answers Unsubscribe, the retries run out, the subscription is
// removed or the server closes.
func (s *Server) runPush(sub *subscription, client *http.Client) {
	p := sub.push
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.faults.closing:
		case <-p.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	wake, unwatch := sub.box.Subscribe()
	defer unwatch()
	unit := s.cfg.push.unit()
	freq := time.Duration(p.freq) * unit
	idle := time.NewTimer(freq)
	defer idle.Stop()
	retry := time.NewTimer(0)
	retry.Stop()
	defer retry.Stop()
	// The first POST comes right after Subscribe: a StatusEvent, or the
	// events after the Subscribe watermark.
	status := true
	var (
		failStart time.Time // first attempt of the notification being retried
		failures  int
		retrying  bool
	)
	for {
		if !retrying {
			body, end, ok := s.pushBatch(sub, status)
			if !ok {
				return
			}
			if body != nil {
				if failStart.IsZero() {
					failStart = time.Now()
				}
				switch s.postPush(ctx, client, sub, body) {
				case pushEnd:
					if ctx.Err() == nil {
						s.dropPush(sub, "the callback answered Unsubscribe")
					}
					return
				case pushKeep:
					s.mu.Lock()
					sub.seq = end
					s.mu.Unlock()
					status, failStart, failures = false, time.Time{}, 0
					idle.Reset(freq)
					continue // more events may be waiting (MoreEvents)
				}
				if ctx.Err() != nil {
					return
				}
				// Retries at 30 s, 60 s, 120 s, ... after the first attempt
				// while that stays within StatusFrequency.
				failures++
				after := unit / 2 << (failures - 1)
				if after > freq || failures > 32 {
					s.dropPush(sub, fmt.Sprintf("%d attempts failed within StatusFrequency (%d minutes)", failures, p.freq))
					return
				}
				retry.Reset(time.Until(failStart.Add(after)))
				retrying = true
			}
		}
		select {
		case <-retry.C:
			retrying = false
		case <-wake:
		case <-idle.C:
			status = true
		case <-ctx.Done():
			return
		}
	}
}

// pushBatch builds the next SendNotification of a subscription: its
// pending events (at most 50, MoreEvents says whether more wait), or a
// StatusEvent when one is due. body is nil when there is nothing to send;
// ok is false when the subscription is gone.
func (s *Server) pushBatch(sub *subscription, status bool) (body []byte, end uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs.byID[sub.id] != sub {
		return nil, 0, false
	}
	p := sub.push
	events, end, more := sub.pending(sub.seq, maxEventsPerNotification)
	if len(events) == 0 && !status {
		sub.seq = end // skip changes the subscription does not report
		return nil, end, true
	}
	d := newDoc()
	env := d.CreateElement("soap11:Envelope")
	env.CreateAttr("xmlns:soap11", nsSOAP)
	rsv := env.CreateElement("soap11:Header").CreateElement("t:RequestServerVersion")
	rsv.CreateAttr("xmlns:m", nsMessages)
	rsv.CreateAttr("Version", p.version)
	rsv.CreateAttr("xmlns:t", nsTypes)
	sn := env.CreateElement("soap11:Body").CreateElement("m:SendNotification")
	sn.CreateAttr("xmlns:t", nsTypes)
	sn.CreateAttr("xmlns:m", nsMessages)
	m := sn.CreateElement("m:ResponseMessages").CreateElement("m:SendNotificationResponseMessage")
	m.CreateAttr("ResponseClass", "Success")
	m.CreateElement("m:ResponseCode").SetText("NoError")
	writeNotification(m.CreateElement("m:Notification"), sub, watermark(sub.mb, sub.seq), more, events, end)
	var buf bytes.Buffer
	d.WriteTo(&buf)
	return buf.Bytes(), end, true
}

// postPush POSTs one notification and reads the callback's answer: HTTP
// 200 with m:SendNotificationResult/m:SubscriptionStatus OK or
// Unsubscribe. Anything else (no answer in time, another status, a body
// that is not such an envelope) is a failure.
func (s *Server) postPush(ctx context.Context, client *http.Client, sub *subscription, body []byte) pushAnswer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.push.url, bytes.NewReader(body))
	if err != nil {
		return pushFailed
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"http://schemas.microsoft.com/exchange/services/2006/messages/SendNotification"`)
	res, err := client.Do(req)
	if err != nil {
		s.logPush(sub, "push POST failed", slog.String("error", redactURL(err, sub.push.url)))
		return pushFailed
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, pushMaxAnswer))
	if err != nil || res.StatusCode != http.StatusOK {
		s.logPush(sub, "push POST failed", slog.Int("status", res.StatusCode))
		return pushFailed
	}
	root, xerr := parseXML(data)
	if xerr != nil || !root.is(nsSOAP, "Envelope") {
		s.logPush(sub, "push answer is not a SOAP envelope")
		return pushFailed
	}
	st := root.path(nsSOAP, "Body").child(nsMessages, "SendNotificationResult").child(nsMessages, "SubscriptionStatus")
	switch st.trimmed() {
	case "OK":
		return pushKeep
	case "Unsubscribe":
		return pushEnd
	}
	s.logPush(sub, "push answer has no SubscriptionStatus OK or Unsubscribe")
	return pushFailed
}

// dropPush removes a push subscription that ended.
func (s *Server) dropPush(sub *subscription, why string) {
	s.mu.Lock()
	if s.subs.byID[sub.id] == sub {
		s.subs.removeAs(sub, ews.ErrorSubscriptionNotFound)
	}
	s.mu.Unlock()
	s.logPush(sub, "push subscription ended", slog.String("reason", why))
}

// logPush logs at debug level, naming the subscription and the callback's
// host (never its path, which may hold a token).
func (s *Server) logPush(sub *subscription, msg string, attrs ...slog.Attr) {
	if s.cfg.logger == nil {
		return
	}
	host := sub.push.url
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	attrs = append(attrs, slog.String("subscription", sub.id), slog.String("host", host))
	s.cfg.logger.LogAttrs(context.Background(), slog.LevelDebug, "scctest: "+msg, attrs...)
}

// redactURL is err's text with the callback URL cut to its host.
func redactURL(err error, u string) string {
	msg := err.Error()
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexAny(u[i+3:], "/?#"); j >= 0 {
			msg = strings.ReplaceAll(msg, u, u[:i+3+j]+"/…")
		}
	}
	return msg
}
