package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const body = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>%s</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header><soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></soap:Body></soap:Envelope>`

// startRun runs the program until the returned cancel is called and returns
// the endpoint it printed.
func startRun(t *testing.T, args ...string) (url string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, pw, io.Discard); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("reading the endpoint line: %v (run: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if !strings.HasPrefix(line, "EWS endpoint: ") {
		t.Fatalf("first line = %q, want \"EWS endpoint: <URL>\"", line)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "EWS endpoint: ")), func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after cancel")
			return nil
		}
	}
}

func getFolder(t *testing.T, c *http.Client, url, user, pass, mailbox string) int {
	t.Helper()
	status, _ := getFolderBody(t, c, url, user, pass, mailbox)
	return status
}

// getFolderBody is getFolder that also returns the response body.
func getFolderBody(t *testing.T, c *http.Client, url, user, pass, mailbox string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(strings.Replace(body, "%s", mailbox, 1)))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.SetBasicAuth(user, pass)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// TestRunDenyAndSeed: -deny names mailboxes that exist but lie outside the
// service account's scope, even when -mailboxes does not list them, and
// mailboxes from -seed stay inside the scope.
func TestRunDenyAndSeed(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"mailboxes": [{"primarySmtp": "dora@contoso.example"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	url, stop := startRun(t, "-auth", "basic", "-service", "svc@contoso.example", "-password", "pw",
		"-mailboxes", "alice@contoso.example", "-deny", "carol@contoso.example", "-seed", seed)
	defer stop()
	for _, tt := range []struct {
		mailbox string
		status  int
		code    string
	}{
		{"alice@contoso.example", 200, "NoError"},
		{"dora@contoso.example", 200, "NoError"},
		{"carol@contoso.example", 500, "ErrorImpersonateUserDenied"},
		{"zed@contoso.example", 500, "ErrorNonExistentMailbox"},
	} {
		status, b := getFolderBody(t, &http.Client{}, url, "svc@contoso.example", "pw", tt.mailbox)
		if status != tt.status || !strings.Contains(b, ">"+tt.code+"<") {
			t.Errorf("GetFolder(%s) = %d %s, want %d with %s", tt.mailbox, status, b, tt.status, tt.code)
		}
	}
}

// TestRunAddrAndTLS serves HTTPS on the address given with -addr.
func TestRunAddrAndTLS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	url, stop := startRun(t, "-addr", addr, "-tls", "-auth", "basic", "-mailboxes", "alice@contoso.example")
	defer stop()
	if want := "https://" + addr + "/EWS/Exchange.asmx"; url != want {
		t.Fatalf("endpoint = %q, want %q", url, want)
	}
	// The certificate is self-signed and generated at start.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if got := getFolder(t, c, url, `CONTOSO\svc-sync`, "Passw0rd!", "alice@contoso.example"); got != 200 {
		t.Errorf("GetFolder over TLS = %d, want 200", got)
	}
}

func TestRunServesAndStops(t *testing.T) {
	url, stop := startRun(t, "-auth", "basic", "-users", "3", "-deny", "user3@contoso.example", "-password", "pw", "-latency", "1ms")
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/EWS/Exchange.asmx") {
		t.Fatalf("endpoint = %q", url)
	}
	c := &http.Client{}
	tests := []struct {
		mailbox, pass string
		want          int
	}{
		{"user1@contoso.example", "pw", 200},
		{"user3@contoso.example", "pw", 500},
		{"user1@contoso.example", "bad", 401},
	}
	for _, tt := range tests {
		if got := getFolder(t, c, url, `CONTOSO\svc-sync`, tt.pass, tt.mailbox); got != tt.want {
			t.Errorf("GetFolder(%s, password %s) = %d, want %d", tt.mailbox, tt.pass, got, tt.want)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("run returned %v, want nil after cancel", err)
	}
}

func TestRunTLSWithSeed(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"mailboxes": [{"primarySmtp": "dora@contoso.example"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	url, stop := startRun(t, "-tls", "-seed", seed, "-auth", "basic,ntlm")
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("endpoint = %q, want https", url)
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-auth", "kerberos"}, {"-version", "Exchange2003"}, {"-mailboxes", "not-an-address"}, {"extra"}, {"-seed", "/does/not/exist"}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}
