package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews/autodiscover"
)

// TestAutodiscoverCA: with -autodiscover-ca the fake answers Autodiscover for
// the domain's names with a certificate from the CA it wrote, and announces
// the EWS URL on mail.<domain>.
func TestAutodiscoverCA(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	f := startRun(t, "-auth", "ntlm", "-password", "Ad-Secret-9", "-mailboxes", "alice@contoso.example", "-autodiscover-ca", caFile)
	u, err := url.Parse(f.url)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(addr)
		if port != "443" || (host != "contoso.example" && !strings.HasSuffix(host, ".contoso.example")) {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, u.Host)
	}
	c, err := autodiscover.New(autodiscover.WithCredentials(autodiscover.NTLM(`CONTOSO\svc-sync`, "Ad-Secret-9")),
		autodiscover.WithDialer(dial), autodiscover.WithTLSConfig(&tls.Config{RootCAs: pool}),
		autodiscover.WithSRVLookup(func(context.Context, string, string, string) (string, []*net.SRV, error) {
			return "", nil, &net.DNSError{Err: "no such host", IsNotFound: true}
		}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Discover(context.Background(), "alice@contoso.example")
	if err != nil {
		t.Fatalf("Discover = %v", err)
	}
	if res.EWSURL != "https://mail.contoso.example/EWS/Exchange.asmx" || res.Source != autodiscover.SourceDomain {
		t.Errorf("EWSURL, Source = %q, %q; want mail.contoso.example from the domain", res.EWSURL, res.Source)
	}
	if !strings.Contains(f.info, "trust the CA in "+caFile) {
		t.Errorf("stderr does not say which CA to trust:\n%s", f.info)
	}
}
