package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

const body = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>%s</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header><soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></soap:Body></soap:Envelope>`

// fake is a running program, started by startRun.
type fake struct {
	url string
	// info is what it printed on stderr up to "Ctrl-C to stop".
	info string
	stop func() (stdoutRest, stderr string, err error)
}

// lineWriter collects what run writes and reports when a line containing
// mark has been written.
type lineWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	mark string
	seen chan struct{} // closed when mark appears
}

func newLineWriter(mark string) *lineWriter {
	return &lineWriter{mark: mark, seen: make(chan struct{})}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	had := strings.Contains(w.buf.String(), w.mark)
	w.buf.Write(p)
	if !had && strings.Contains(w.buf.String(), w.mark) {
		close(w.seen)
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startRun runs the program until stop is called. It returns the endpoint
// from the first stdout line and the stderr block that follows it.
func startRun(t *testing.T, args ...string) fake {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errw := newLineWriter("Ctrl-C to stop")
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, pw, errw); pw.Close() }()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("reading the endpoint line: %v (run: %v)", err, <-done)
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(br); rest <- string(b) }()
	if !strings.HasPrefix(line, "EWS endpoint: ") {
		cancel()
		t.Fatalf("first line = %q, want \"EWS endpoint: <URL>\"", line)
	}
	select {
	case <-errw.seen:
	case err := <-done:
		t.Fatalf("run returned %v before printing \"Ctrl-C to stop\" on stderr; stderr:\n%s", err, errw)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("no \"Ctrl-C to stop\" on stderr; stderr:\n%s", errw)
	}
	stopped := false
	f := fake{
		url:  strings.TrimSpace(strings.TrimPrefix(line, "EWS endpoint: ")),
		info: errw.String(),
	}
	f.stop = func() (string, string, error) {
		if stopped {
			return "", errw.String(), nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return <-rest, errw.String(), err
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after cancel")
			return "", "", nil
		}
	}
	t.Cleanup(func() { _, _, _ = f.stop() })
	return f
}

// infoField returns the value of the "name:" line of the stderr block.
func infoField(t *testing.T, info, name string) string {
	t.Helper()
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("stderr has no %q line:\n%s", name+":", info)
	return ""
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
	url := startRun(t, "-auth", "basic", "-service", "svc@contoso.example", "-password", "pw",
		"-mailboxes", "alice@contoso.example", "-deny", "carol@contoso.example", "-seed", seed).url
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
	url := startRun(t, "-addr", addr, "-tls", "-auth", "basic", "-mailboxes", "alice@contoso.example").url
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
	f := startRun(t, "-auth", "basic", "-users", "3", "-deny", "user3@contoso.example", "-password", "pw", "-latency", "1ms")
	url := f.url
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
	stdoutRest, stderr, err := f.stop()
	if err != nil {
		t.Errorf("run returned %v, want nil after cancel", err)
	}
	if stdoutRest != "" {
		t.Errorf("stdout after the endpoint line = %q, want nothing (the first line is the whole stdout)", stdoutRest)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "fakeexchange: stopped" {
		t.Errorf("last stderr line = %q, want \"fakeexchange: stopped\"; stderr:\n%s", last, stderr)
	}
}

func TestRunTLSWithSeed(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"mailboxes": [{"primarySmtp": "dora@contoso.example"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startRun(t, "-tls", "-seed", seed, "-auth", "basic,ntlm")
	if !strings.HasPrefix(f.url, "https://") {
		t.Fatalf("endpoint = %q, want https", f.url)
	}
	if _, _, err := f.stop(); err != nil {
		t.Error(err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"-auth", "kerberos"}, `-auth "kerberos"`},
		{[]string{"-auth", ","}, `-auth ","`},
		{[]string{"-version", "Exchange2003"}, `-version "Exchange2003"`},
		{[]string{"-mailboxes", "not-an-address"}, `-mailboxes: "not-an-address" is not an SMTP address`},
		{[]string{"-mailboxes", "a@contoso.example,a@contoso.example"}, "-mailboxes/-users: "},
		{[]string{"-deny", "x@"}, `-deny: "x@" is not an SMTP address`},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-seed", "/does/not/exist"}, "-seed: "},
		{[]string{"-users", "-5"}, "-users -5: want 0 to 1000000"},
		{[]string{"-users", "1000001"}, "-users 1000001"},
		{[]string{"-latency", "-5ms"}, "-latency -5ms: want a duration of 0 or more"},
		{[]string{"-lockout", "-1"}, "-lockout -1"},
		{[]string{"-addr", "127.0.0.1"}, `-addr "127.0.0.1": want host:port`},
		{[]string{"-password", ""}, "-password is empty"},
		{[]string{"-users", "many"}, `invalid value "many" for flag -users`},
		{[]string{"-control", "0.0.0.0:0"}, `-control "0.0.0.0:0": not a loopback address`},
		{[]string{"-control", ":0"}, `-control ":0": not a loopback address`},
		{[]string{"-control", "localhost"}, `-control "localhost": want host:port`},
		{[]string{"-control-any-address"}, "needs -control"},
		{[]string{"-schema-dir", "/does/not/exist"}, "-schema-dir: "},
		{[]string{"-backends", "EXCH-1,bad name"}, "-backends: "},
		{[]string{"-backends", ","}, `-backends ","`},
		{[]string{"-hanging-connection-limit", "-1"}, "-hanging-connection-limit -1"},
		{[]string{"-subscription-limit", "-3"}, "-subscription-limit -3"},
		{[]string{"-max-attachment-size", "-1"}, "-max-attachment-size -1"},
		{[]string{"-stream-lifetime", "-1s"}, "-stream-lifetime -1s"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}

// TestRunTellsHowToUse: after the endpoint line, stderr tells a human the
// logons, password, auth schemes and mailboxes, and every logon it names
// works, over Basic and NTLM.
func TestRunTellsHowToUse(t *testing.T) {
	f := startRun(t, "-auth", "ntlm,basic", "-users", "7", "-deny", "user2@contoso.example,user7@contoso.example")
	logons := strings.Split(infoField(t, f.info, "logon"), " or ")
	if want := []string{`CONTOSO\svc-sync`, "svc-sync@contoso.example"}; !slices.Equal(logons, want) {
		t.Errorf("logon line names %q, want %q", logons, want)
	}
	if got, want := infoField(t, f.info, "password"), "Passw0rd!"; got != want {
		t.Errorf("password line = %q, want %q (the demo default)", got, want)
	}
	if got, want := infoField(t, f.info, "auth"), "NTLM, Basic"; got != want {
		t.Errorf("auth line = %q, want %q", got, want)
	}
	mb := infoField(t, f.info, "mailboxes")
	for _, want := range []string{"7 ", "user1@contoso.example", "user3@contoso.example", "more"} {
		if !strings.Contains(mb, want) {
			t.Errorf("mailboxes line = %q, want it to contain %q", mb, want)
		}
	}
	if got, want := infoField(t, f.info, "denied"), "user2@contoso.example, user7@contoso.example"; !strings.HasPrefix(got, want) {
		t.Errorf("denied line = %q, want it to start with %q", got, want)
	}
	ntlm := &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: &http.Transport{}}}
	for _, logon := range logons {
		for _, c := range []struct {
			name string
			c    *http.Client
		}{{"Basic", &http.Client{}}, {"NTLM", ntlm}} {
			if got := getFolder(t, c.c, f.url, logon, "Passw0rd!", "user1@contoso.example"); got != 200 {
				t.Errorf("GetFolder(user1) as %s over %s = %d, want 200", logon, c.name, got)
			}
			if got := getFolder(t, c.c, f.url, logon, "Passw0rd!", "user2@contoso.example"); got != 500 {
				t.Errorf("GetFolder(user2, denied) as %s over %s = %d, want 500", logon, c.name, got)
			}
		}
	}
}

// TestRunHidesGivenPassword: a password the user chose is not echoed, also
// not as the bearer token.
func TestRunHidesGivenPassword(t *testing.T) {
	const secret = "My-0wn-Secret"
	f := startRun(t, "-auth", "basic,bearer", "-service", "svc@contoso.example", "-password", secret, "-mailboxes", "alice@contoso.example")
	if strings.Contains(f.info, secret) {
		t.Errorf("stderr echoes the -password given:\n%s", f.info)
	}
	if got, want := infoField(t, f.info, "password"), "(the -password you gave)"; got != want {
		t.Errorf("password line = %q, want %q", got, want)
	}
	if got, want := infoField(t, f.info, "logon"), `CONTOSO\svc or svc@contoso.example`; got != want {
		t.Errorf("logon line = %q, want %q", got, want)
	}
	if got, want := infoField(t, f.info, "auth"), "Basic, Bearer"; got != want {
		t.Errorf("auth line = %q, want %q", got, want)
	}
	if got := infoField(t, f.info, "bearer token"); !strings.Contains(got, "(the -password you gave)") {
		t.Errorf("bearer token line = %q, want it to name the -password you gave", got)
	}
	if got, want := infoField(t, f.info, "denied"), "none"; !strings.HasPrefix(got, want) {
		t.Errorf("denied line = %q, want it to start with %q", got, want)
	}
}

// TestRunOtherDomainLogon: a UPN outside the fake's domain is one logon
// only, and the block says so.
func TestRunOtherDomainLogon(t *testing.T) {
	f := startRun(t, "-auth", "basic", "-service", "svc@fabrikam.example", "-mailboxes", "alice@contoso.example")
	if got, want := infoField(t, f.info, "logon"), "svc@fabrikam.example"; got != want {
		t.Errorf("logon line = %q, want %q", got, want)
	}
	if got := getFolder(t, &http.Client{}, f.url, "svc@fabrikam.example", "Passw0rd!", "alice@contoso.example"); got != 200 {
		t.Errorf("GetFolder as svc@fabrikam.example = %d, want 200", got)
	}
}

// TestMainSignal runs the real main in a child process and stops it with
// SIGINT and SIGTERM: exit status 0, the endpoint alone on stdout, and
// "fakeexchange: stopped" last on stderr.
func TestMainSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMain$")
			cmd.Env = append(os.Environ(), "FAKEEXCHANGE_HELPER_MAIN=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			errw := newLineWriter("fakeexchange: stopped")
			cmd.Stderr = errw
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(stdout)
			line, err := br.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "EWS endpoint: http://127.0.0.1:") {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("first stdout line = %q (%v), want \"EWS endpoint: <URL>\"; stderr:\n%s", line, err, errw)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(br)
			if err := cmd.Wait(); err != nil {
				t.Errorf("after %v: %v, want exit status 0; stderr:\n%s", sig, err, errw)
			}
			if len(rest) != 0 {
				t.Errorf("stdout after the endpoint line = %q, want nothing", rest)
			}
			stderr := errw.String()
			if !strings.HasSuffix(stderr, "\nfakeexchange: stopped\n") {
				t.Errorf("stderr after %v does not end with \"fakeexchange: stopped\":\n%s", sig, stderr)
			}
		})
	}
}

// TestHelperMain is the child process of TestMainSignal.
func TestHelperMain(t *testing.T) {
	if os.Getenv("FAKEEXCHANGE_HELPER_MAIN") != "1" {
		t.Skip("child process of TestMainSignal")
	}
	os.Args = []string{"fakeexchange", "-auth", "basic", "-users", "2"}
	main()
	os.Exit(0)
}

// TestRunStopsWithHalfSentRequests: clients that sent headers and half a
// body, and never hang up, do not keep the fake from stopping.
func TestRunStopsWithHalfSentRequests(t *testing.T) {
	f := startRun(t, "-auth", "basic", "-users", "1", "-password", "pw")
	host := strings.TrimPrefix(strings.TrimSuffix(f.url, "/EWS/Exchange.asmx"), "http://")
	for range 50 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n" +
			"Authorization: Basic Q09OVE9TT1xzdmMtc3luYzpwdw==\r\n\r\n<soap:Envelope"
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
	}
	// A complete request, so the half-sent ones are in flight when it is
	// answered (connections are served concurrently; this only makes it
	// likely that they have been accepted).
	if got := getFolder(t, &http.Client{}, f.url, `CONTOSO\svc-sync`, "pw", "user1@contoso.example"); got != 200 {
		t.Fatalf("GetFolder = %d, want 200", got)
	}
	if _, _, err := f.stop(); err != nil {
		t.Errorf("run returned %v, want nil", err)
	}
}

// TestRunControl: with -control the second stdout line names the control
// API, which drives the running fake: a password changed through it is the
// one logons need.
func TestRunControl(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-auth", "basic", "-users", "2", "-password", "pw", "-control", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	ews, _ := br.ReadString('\n')
	ctl, _ := br.ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, br) }()
	ewsURL := strings.TrimSpace(strings.TrimPrefix(ews, "EWS endpoint: "))
	ctlURL := strings.TrimSpace(strings.TrimPrefix(ctl, "control API: "))
	if !strings.HasPrefix(ctlURL, "http://127.0.0.1:") || !strings.HasSuffix(ctlURL, "/v1/") {
		t.Fatalf("second stdout line = %q, want \"control API: http://127.0.0.1:PORT/v1/\"", ctl)
	}
	res, err := http.Post(ctlURL+"accounts/password", "application/json", strings.NewReader(`{"logon": "CONTOSO\\svc-sync", "password": "pw2"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST accounts/password = %d, want 200", res.StatusCode)
	}
	// A client that announces a body and stalls is cut by the server
	// (ReadTimeout), not served for ever.
	stalled, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(ctlURL, "/v1/"), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if _, err := fmt.Fprintf(stalled, "POST /v1/accounts/password HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"logon\""); err != nil {
		t.Fatal(err)
	}
	_ = stalled.SetReadDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.ReadAll(stalled); err != nil {
		t.Errorf("stalled control request: reading = %v, want the server to close the connection", err)
	}
	c := &http.Client{}
	if got := getFolder(t, c, ewsURL, `CONTOSO\svc-sync`, "pw", "user1@contoso.example"); got != 401 {
		t.Errorf("GetFolder with the old password = %d, want 401", got)
	}
	if got := getFolder(t, c, ewsURL, `CONTOSO\svc-sync`, "pw2", "user1@contoso.example"); got != 200 {
		t.Errorf("GetFolder with the new password = %d, want 200", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

// TestRunSchemaDir: -schema-dir serves Microsoft's schema under /EWS/ to
// authenticated clients (skipped without ../shared, see SCC_SHARED).
func TestRunSchemaDir(t *testing.T) {
	shared := os.Getenv("SCC_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared")
	}
	dir := filepath.Join(shared, "ews-schema")
	want, err := os.ReadFile(filepath.Join(dir, "services.wsdl"))
	if err != nil {
		t.Skipf("no EWS schema under %s (set SCC_SHARED): %v", dir, err)
	}
	f := startRun(t, "-auth", "basic", "-password", "pw-schema", "-schema-dir", dir)
	defer f.stop()
	u := strings.TrimSuffix(f.url, "Exchange.asmx") + "Services.wsdl"
	hr, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	hr.SetBasicAuth(`CONTOSO\svc-sync`, "pw-schema")
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Errorf("GET %s = %d, %d bytes; want 200 and services.wsdl (%d bytes)", u, res.StatusCode, len(got), len(want))
	}
}

// TestRunLimitsAndBackends: -backends names the backend servers the
// mailboxes are spread over, and -subscription-limit caps the
// subscriptions of a mailbox as EWSMaxSubscriptions does.
func TestRunLimitsAndBackends(t *testing.T) {
	o, err := parseFlags([]string{"-backends", "EXCH-A,EXCH-B", "-hanging-connection-limit", "2", "-stream-lifetime", "1m",
		"-subscription-limit", "1", "-max-attachment-size", "1000", "-mailboxes", "alice@contoso.example"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f, err := setup(o)
	if err != nil {
		t.Fatal(err)
	}
	defer f.srv.Close()
	if got := f.srv.Backends(); strings.Join(got, ",") != "EXCH-A,EXCH-B" {
		t.Errorf("Backends() = %v, want [EXCH-A EXCH-B]", got)
	}
	if b, err := f.srv.MailboxBackend("alice@contoso.example"); err != nil || (b != "EXCH-A" && b != "EXCH-B") {
		t.Errorf("MailboxBackend(alice) = %q, %v; want one of the two", b, err)
	}

	url := startRun(t, "-auth", "basic", "-service", "svc@contoso.example", "-password", "pw",
		"-mailboxes", "alice@contoso.example", "-subscription-limit", "1").url
	subscribe := strings.Replace(body, `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>`,
		`<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds><t:EventTypes><t:EventType>CreatedEvent</t:EventType></t:EventTypes><t:Timeout>10</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>`, 1)
	if subscribe == body {
		t.Fatal("the test's GetFolder body changed; update the Subscribe it makes from it")
	}
	post := func() string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(strings.Replace(subscribe, "%s", "alice@contoso.example", 1)))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.SetBasicAuth("svc@contoso.example", "pw")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if b := post(); !strings.Contains(b, ">NoError<") {
		t.Fatalf("first Subscribe: %s", b)
	}
	if b := post(); !strings.Contains(b, ">ErrorExceededSubscriptionCount<") {
		t.Errorf("second Subscribe with -subscription-limit 1 = %s, want ErrorExceededSubscriptionCount", b)
	}
}
