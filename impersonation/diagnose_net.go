package impersonation

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// Exchange Online EWS retirement dates (see remediation.go and the
// Exchange Team's announcements): from 1 October 2026 EWS is blocked unless
// the tenant allow-lists the application; on 1 April 2027 it is switched
// off for good.
var (
	exoEWSBlockDate = time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC)
	exoEWSEndDate   = time.Date(2027, time.April, 1, 0, 0, 0, 0, time.UTC)
)

// certExpirySoon is how close to its end a certificate's validity must be
// for the TLS step to warn.
const certExpirySoon = 30 * 24 * time.Hour

// stepConfiguration validates the configuration and the mailbox.
func (g *diagnoser) stepConfiguration(context.Context) Step {
	cfg := g.cfg
	if err := cfg.Validate(); err != nil {
		st := configStop(err)
		return stepFail(st.Reason, st.Remediation)
	}
	if cfg.AccessType == org.DirectLogon {
		return stepFail(ErrDirectLogon.Error(),
			"Choose Microsoft Exchange Impersonation (on-premises) or Exchange Online app-only OAuth as the Mailbox Access Type; the Service Account Access test needs a service account.")
	}
	if strings.TrimSpace(cfg.EWSURL) != "" || !cfg.DiscoverEWSURL {
		if err := g.setEndpoint(cfg.EWSURL); err != nil {
			return stepFail("the EWS URL is not a valid URL", "Enter the address of the EWS endpoint, such as https://mail.contoso.com/EWS/Exchange.asmx.")
		}
	}

	switch {
	case g.mailbox == "":
		return stepFail("no mailbox to diagnose was given",
			"Name the mailbox to test by its primary SMTP address (Get-Mailbox <name> | Format-List PrimarySmtpAddress).")
	case org.ValidSID(g.mailbox):
		g.sid = ews.SID(g.mailbox)
	default:
		a, err := org.ParseEmailAddress(g.mailbox)
		if err != nil {
			return stepFail(fmt.Sprintf("the mailbox %q is not a valid SMTP address or SID: %v", g.mailbox, err),
				"Name the mailbox to test by its primary SMTP address (Get-Mailbox <name> | Format-List PrimarySmtpAddress).")
		}
		g.sid = ews.PrimarySmtpAddress(a.String())
		g.anchor = a.String()
	}

	var warnDetail, warnFix []string
	for _, w := range cfg.Warnings() {
		if g.h.exchangeOnline && w.Field == org.FieldEWSURL && strings.Contains(w.Problem, "Exchange Online") {
			continue // said below, with the exact commands
		}
		warnDetail = append(warnDetail, w.Field+" "+w.Problem)
		if w.Fix != "" {
			warnFix = append(warnFix, w.Fix)
		}
	}
	if g.h.exchangeOnline {
		now := g.s.now()
		if !now.Before(exoEWSEndDate) {
			return stepFail("the EWS URL points at Exchange Online, where EWS was switched off for good on 1 April 2027",
				"EWS no longer works in Exchange Online: move the sync to Microsoft Graph.")
		}
		d, f := exoRetirementWarning(now, g.h.appID, g.anchor)
		warnDetail = append(warnDetail, d)
		warnFix = append(warnFix, f)
	}
	method := cfg.AuthMethod.String()
	if g.h.appOnly {
		method = "OAuth bearer token"
	}
	endpoint := g.d.Endpoint
	if endpoint == "" {
		endpoint = "the EWS URL (to be found with Autodiscover)"
	}
	detail := fmt.Sprintf("%s as %s (%s, %s); mailbox %s impersonated by %s",
		endpoint, g.h.serviceAccount, cfg.AccessType.Title(), method, g.mailbox, g.sid.Kind)
	if len(warnDetail) > 0 {
		return stepWarn(detail+"; "+strings.Join(warnDetail, "; "), strings.Join(warnFix, " "))
	}
	return stepPass(detail)
}

// setEndpoint makes raw the EWS URL the later steps test.
func (g *diagnoser) setEndpoint(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return err
	}
	g.cfg.EWSURL = strings.TrimSpace(raw)
	g.u = u
	g.host = u.Hostname()
	g.port = u.Port()
	if g.port == "" {
		g.port = "443"
		if strings.EqualFold(u.Scheme, "http") {
			g.port = "80"
		}
	}
	g.d.Endpoint = redactURL(raw)
	g.h.exchangeOnline = org.IsExchangeOnline(raw)
	g.d.ExchangeOnline = g.h.exchangeOnline
	return nil
}

// exoRetirementWarning explains Exchange Online's EWS allow list and end
// date, with the commands that let this application in.
func exoRetirementWarning(now time.Time, clientID, mailbox string) (detail, fix string) {
	if now.Before(exoEWSBlockDate) {
		detail = "the EWS URL points at Exchange Online: from 1 October 2026 Exchange Online blocks EWS for every application that is not on the tenant's allow list, and on 1 April 2027 it switches EWS off for good"
	} else {
		detail = "the EWS URL points at Exchange Online: since 1 October 2026 EWS works there only when the organization's EwsEnabled is $true and the application is on its EwsAllowedAppIDs list, and on 1 April 2027 it is switched off for good"
	}
	return detail, exoAllowListFix(clientID, mailbox)
}

// proxyFor is the HTTP proxy the EWS requests take, as Check's would: the
// proxy of the caller's *http.Transport ([WithHTTPClient]), or else the
// environment's (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as Go's default
// transport does; nil for none. A caller's RoundTripper that is not an
// *http.Transport is taken as direct.
func (g *diagnoser) proxyFor() (*url.URL, error) {
	proxy := http.ProxyFromEnvironment
	if g.s.httpClient != nil {
		t, ok := g.s.httpClient.Transport.(*http.Transport)
		switch {
		case ok:
			proxy = t.Proxy
		case g.s.httpClient.Transport != nil:
			proxy = nil
		}
	}
	if proxy == nil {
		return nil, nil
	}
	return proxy(&http.Request{Method: http.MethodPost, URL: g.u, Header: http.Header{}})
}

// dnsHost is the host the network steps reach: the proxy's when there is
// one, with a note for the step details.
func (g *diagnoser) dnsHost() (host, port, via string) {
	if g.proxy == nil {
		return g.host, g.port, ""
	}
	port = g.proxy.Port()
	if port == "" {
		port = "80"
		if g.proxy.Scheme == "https" {
			port = "443"
		}
	}
	return g.proxy.Hostname(), port, fmt.Sprintf("through the HTTP proxy %s (the path Check takes to %s); ", redactURL(g.proxy.String()), g.u.Host)
}

// stepDNS resolves the host (the proxy's, when the EWS requests take one).
func (g *diagnoser) stepDNS(ctx context.Context) Step {
	proxy, err := g.proxyFor()
	if err != nil {
		return stepFail("the proxy setting does not parse: "+err.Error(), "Correct HTTPS_PROXY / HTTP_PROXY (http://proxy.contoso.com:8080) or the proxy of the HTTP client.")
	}
	if proxy != nil && proxy.Scheme != "http" && proxy.Scheme != "https" {
		return stepFail(fmt.Sprintf("the EWS requests take the %s proxy %s, which the diagnosis cannot follow", proxy.Scheme, redactURL(proxy.String())),
			"Diagnose through an http:// or https:// proxy, or without one (NO_PROXY).")
	}
	g.proxy = proxy
	host, port, via := g.dnsHost()
	if ip := net.ParseIP(host); ip != nil {
		g.addrs = []string{host}
		return stepPass(fmt.Sprintf("%s%s is an IP address; nothing to resolve", via, host))
	}
	addrs, err := g.s.resolver.LookupHost(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		st := stepFail(fmt.Sprintf("%scannot resolve %s: %v", via, host, err), networkRemediation(netDNS, host, port))
		var de *net.DNSError
		if errors.As(err, &de) && de.IsTimeout {
			st.Fix = fmt.Sprintf("The DNS servers of this machine did not answer for %s in time: check the DNS servers (Get-DnsClientServerAddress) and the network path to them, then run the diagnosis again.", host)
		}
		return st
	}
	g.addrs = addrs
	return stepPass(fmt.Sprintf("%s%s resolves to %s", via, host, strings.Join(addrs, ", ")))
}

// stepTCP connects to the first address that answers and keeps the
// connection for the TLS step.
func (g *diagnoser) stepTCP(ctx context.Context) Step {
	host, port, via := g.dnsHost()
	var errs []string
	for _, a := range g.addrs {
		addr := net.JoinHostPort(a, port)
		c, err := g.s.dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", addr, shortNetErr(err)))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		g.conn = c
		detail := via + "connected to " + addr
		if len(errs) > 0 {
			detail += " (after failing: " + strings.Join(errs, "; ") + ")"
		}
		return stepPass(detail)
	}
	fix := networkRemediation(netConnect, host, port)
	return stepFail(via+"no TCP connection to port "+port+": "+strings.Join(errs, "; "), fix)
}

// shortNetErr drops the repetition of the address from a dial error.
func shortNetErr(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// stepTLS runs the handshake on the TCP connection and checks the
// certificate itself, so that every problem is named.
func (g *diagnoser) stepTLS(ctx context.Context) Step {
	defer g.closeConn()
	if strings.EqualFold(g.u.Scheme, "http") {
		return stepWarn("plain http://: no TLS, so mail and (with Basic) credentials cross the network readable; allowed for test servers only",
			fmt.Sprintf("Use https://%s/EWS/Exchange.asmx for a production server.", g.u.Host))
	}
	roots, insecure := g.trust()
	_, _, via := g.dnsHost()
	if g.proxy != nil {
		if st, ok := g.connectTunnel(ctx, roots); !ok {
			return st
		}
	}
	tc := tls.Client(g.conn, &tls.Config{ServerName: g.host, InsecureSkipVerify: true}) // verified below, one problem at a time
	g.conn = tc
	if err := tc.HandshakeContext(ctx); err != nil {
		o := classifyTransport(&ews.TransportError{Operation: "TLS handshake", Err: err})
		return stepFail(fmt.Sprintf("TLS handshake with %s failed: %v", g.host, err), networkRemediation(o.net, g.host, g.port))
	}
	cs := tc.ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return stepFail("the server sent no certificate", networkRemediation(netTLS, g.host, g.port))
	}
	leaf := cs.PeerCertificates[0]
	summary := fmt.Sprintf("%s%s, certificate for %s issued by %s, valid %s to %s",
		via, tls.VersionName(cs.Version), certNames(leaf), issuerName(leaf),
		leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))

	now := g.s.now()
	var problems []string
	var kinds []netKind
	switch {
	case now.After(leaf.NotAfter):
		problems = append(problems, "the certificate expired on "+leaf.NotAfter.UTC().Format(time.DateOnly))
		kinds = append(kinds, netTLSExpired)
	case now.Before(leaf.NotBefore):
		problems = append(problems, "the certificate is not valid before "+leaf.NotBefore.UTC().Format(time.DateOnly))
		kinds = append(kinds, netTLSExpired)
	}
	if err := leaf.VerifyHostname(g.host); err != nil {
		problems = append(problems, fmt.Sprintf("the certificate does not name %s (it names %s)", g.host, certNames(leaf)))
		kinds = append(kinds, netTLSName)
	}
	// Check the chain at a moment the leaf is valid, so that an expired
	// certificate does not hide an untrusted issuer.
	at := now
	if now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		at = leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case err == nil:
	case errors.As(err, &ua):
		problems = append(problems, fmt.Sprintf("the issuer %s is not trusted by this machine (self-signed or an internal CA)", issuerName(leaf)))
		kinds = append(kinds, netTLSUntrusted)
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		problems = append(problems, "a certificate of the chain has expired: "+ci.Error())
		kinds = append(kinds, netTLSExpired)
	default:
		problems = append(problems, "the certificate chain does not verify: "+err.Error())
		kinds = append(kinds, netTLS)
	}
	if len(problems) == 0 {
		if left := leaf.NotAfter.Sub(now); left < certExpirySoon {
			return stepWarn(summary+fmt.Sprintf("; it expires in %d days", int(left.Hours()/24)),
				fmt.Sprintf("Renew the certificate of %s before %s (Get-ExchangeCertificate, New-ExchangeCertificate or your CA, then Enable-ExchangeCertificate -Services IIS).", g.host, leaf.NotAfter.UTC().Format(time.DateOnly)))
		}
		return stepPass(summary)
	}
	var fixes []string
	for _, k := range kinds {
		f := networkRemediation(k, g.host, g.port)
		if !containsString(fixes, f) {
			fixes = append(fixes, f)
		}
	}
	detail := strings.Join(problems, "; ") + " (" + summary + ")"
	if insecure {
		return stepWarn("certificate verification is turned off for this diagnosis, and "+detail, strings.Join(fixes, " "))
	}
	return stepFail(detail, strings.Join(fixes, " "))
}

// connectTunnel asks the proxy on g.conn for a tunnel to the EWS host
// (HTTP CONNECT, as Go's transport does for https:// URLs), first over TLS
// when the proxy is https://. ok is false with the failed step.
func (g *diagnoser) connectTunnel(ctx context.Context, roots *x509.CertPool) (Step, bool) {
	proxyName := redactURL(g.proxy.String())
	phost, pport, _ := g.dnsHost()
	if g.proxy.Scheme == "https" {
		pc := tls.Client(g.conn, &tls.Config{ServerName: g.proxy.Hostname(), RootCAs: roots})
		g.conn = pc
		if err := pc.HandshakeContext(ctx); err != nil {
			return stepFail(fmt.Sprintf("TLS handshake with the proxy %s failed: %v", proxyName, err), networkRemediation(netTLS, phost, pport)), false
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		g.conn.SetDeadline(dl)
		defer g.conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { g.conn.SetDeadline(time.Now()) })
	defer stop()
	target := net.JoinHostPort(g.host, g.port)
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if u := g.proxy.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	if err := req.Write(g.conn); err != nil {
		return stepFail(fmt.Sprintf("sending CONNECT %s to the proxy %s failed: %v", target, proxyName, err), networkRemediation(netConnect, phost, pport)), false
	}
	br := bufio.NewReader(g.conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return stepFail(fmt.Sprintf("the proxy %s did not answer CONNECT %s: %v", proxyName, target, err), networkRemediation(netConnect, phost, pport)), false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fix := fmt.Sprintf("The proxy %s refused to open a tunnel to %s (%s): allow CONNECT to %s on the proxy, add %s to NO_PROXY if it must be reached directly, or correct HTTPS_PROXY.", proxyName, target, resp.Status, target, g.host)
		if resp.StatusCode == http.StatusProxyAuthRequired {
			fix = fmt.Sprintf("The proxy %s wants authentication (%s): put the proxy's credentials in the proxy URL (http://user:password@proxy:port) or have the proxy allow this machine.", proxyName, resp.Header.Get("Proxy-Authenticate"))
		}
		return stepFail(fmt.Sprintf("the proxy %s answered CONNECT %s with %s", proxyName, target, resp.Status), fix), false
	}
	if br.Buffered() > 0 {
		return stepFail(fmt.Sprintf("the proxy %s sent data after accepting CONNECT %s", proxyName, target), networkRemediation(netTLS, phost, pport)), false
	}
	return Step{}, true
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// trust returns the roots to verify against (nil: the system's) and whether
// verification is turned off for the EWS requests.
func (g *diagnoser) trust() (*x509.CertPool, bool) {
	roots := g.s.rootCAs
	insecure := g.s.insecureSkipVerify
	if g.s.httpClient != nil {
		if t, ok := g.s.httpClient.Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
			if roots == nil {
				roots = t.TLSClientConfig.RootCAs
			}
			insecure = insecure || t.TLSClientConfig.InsecureSkipVerify
		}
	}
	return roots, insecure
}

// certNames lists the names a certificate is valid for.
func certNames(c *x509.Certificate) string {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, "CN="+c.Subject.CommonName+" only (no subject alternative names)")
	}
	if len(names) == 0 {
		return "no name"
	}
	const max = 5
	if len(names) > max {
		return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
	}
	return strings.Join(names, ", ")
}

// issuerName names a certificate's issuer briefly.
func issuerName(c *x509.Certificate) string {
	switch {
	case c.Issuer.CommonName != "":
		return fmt.Sprintf("%q", c.Issuer.CommonName)
	case len(c.Issuer.Organization) > 0:
		return fmt.Sprintf("%q", c.Issuer.Organization[0])
	}
	return fmt.Sprintf("%q", c.Issuer.String())
}

// httpClient is the client the EWS requests go through: the caller's, or
// one that resolves and dials as the DNS and TCP steps do.
func (g *diagnoser) httpClient() *http.Client {
	if g.hc != nil {
		return g.hc
	}
	if g.s.httpClient != nil {
		g.hc = g.s.httpClient
		return g.hc
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment // the path the steps tested, and Check's
	roots, _ := g.trust()
	t.TLSClientConfig = &tls.Config{RootCAs: roots}
	resolver, dialer := g.s.resolver, g.s.dialer
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		addrs := []string{host}
		if net.ParseIP(host) == nil {
			if addrs, err = resolver.LookupHost(ctx, host); err != nil {
				return nil, err
			}
		}
		var errs []error
		for _, a := range addrs {
			c, err := dialer.DialContext(ctx, network, net.JoinHostPort(a, port))
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
		return nil, errors.Join(errs...)
	}
	g.hc = &http.Client{Transport: t, Timeout: 2 * time.Minute}
	return g.hc
}
