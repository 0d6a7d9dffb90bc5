package impersonation

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// connectProxy is a tiny HTTP CONNECT proxy on 127.0.0.1 that tunnels to
// any host name at the port asked for on 127.0.0.1, and records the
// CONNECT targets.
type connectProxy struct {
	l       net.Listener
	mu      sync.Mutex
	targets []string
	wg      sync.WaitGroup
}

func newConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{l: l}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(c)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); p.wg.Wait() })
	return p
}

func (p *connectProxy) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	p.mu.Lock()
	p.targets = append(p.targets, req.Host)
	p.mu.Unlock()
	_, port, _ := net.SplitHostPort(req.Host)
	up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, br); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	<-done
}

func (p *connectProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

// TestDiagnoseThroughProxy: when the EWS requests take an HTTP proxy (here
// the proxy of the HTTP client, as HTTPS_PROXY would give Check's), the
// DNS, TCP and TLS steps take it too (TLS through a CONNECT tunnel) and say
// so. The EWS host name resolves only at the proxy, so a diagnosis of the
// direct path would fail at DNS.
func TestDiagnoseThroughProxy(t *testing.T) {
	f := newDiagFake(t, scctest.ImpersonateAll(), org.AuthNTLM)
	proxy := newConnectProxy(t)
	_, port, _ := net.SplitHostPort(f.srv.Listener().Addr().String())
	f.cfg.EWSURL = "https://mail.example.com:" + port + "/EWS/Exchange.asmx" // the test certificate names *.example.com
	pu := &url.URL{Scheme: "http", Host: proxy.l.Addr().String()}
	tr := f.srv.Client().Transport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyURL(pu)
	d := mustDiagnose(t, f.cfg, diagAlice, WithHTTPClient(&http.Client{Transport: tr}),
		WithResolver(fakeResolver{})) // nothing resolves directly
	if !d.OK() {
		t.Fatalf("Diagnose through the proxy failed: %+v", d.Steps)
	}
	for _, n := range []StepName{StepDNS, StepTCP, StepTLS} {
		st, _ := d.Step(n)
		if !strings.Contains(st.Detail, "through the HTTP proxy "+pu.String()) {
			t.Errorf("%s detail = %q, want it to say it went through the proxy %s", n, st.Detail, pu)
		}
	}
	if st, _ := d.Step(StepTCP); !strings.Contains(st.Detail, "connected to "+proxy.l.Addr().String()) {
		t.Errorf("tcp detail = %q, want a connection to the proxy", st.Detail)
	}
	targets := proxy.seen()
	want := "mail.example.com:" + port
	if len(targets) < 2 || targets[0] != want {
		t.Errorf("the proxy saw CONNECT %v, want %s from the TLS step and then from the EWS requests", targets, want)
	}
	for _, tg := range targets {
		if tg != want {
			t.Errorf("the proxy saw CONNECT %s, want only %s", tg, want)
		}
	}
}
