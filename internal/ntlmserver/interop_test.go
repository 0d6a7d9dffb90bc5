package ntlmserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// opensslLegacy enables OpenSSL 3's legacy provider, which holds MD4:
// without it Python's hashlib (and so ntlm-auth) cannot compute NTLM hashes
// on Debian 12.
const opensslLegacy = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`

// pythonNTLM is a client independent of go-ntlmssp: Python's requests_ntlm
// (ntlm-auth), which sends a MIC with MsvAvFlags and key exchange. It
// prints the status of each of two requests on one session (connection).
const pythonNTLM = `
import sys, requests
from requests_ntlm import HttpNtlmAuth
url, logon, pw = sys.argv[1:4]
s = requests.Session()
s.auth = HttpNtlmAuth(logon, pw)
for body in ("<one/>", "<two/>"):
    r = s.post(url, data=body)
    print(r.status_code, r.text)
`

// TestInteropPython checks the server against Python's requests_ntlm when
// it is installed (Debian: python3-requests-ntlm, pulled in by
// python3-exchangelib, which the scctest CI installs).
func TestInteropPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import requests_ntlm").Run()
	}
	if err != nil {
		if _, err2 := exec.Command("/usr/bin/python3", "-c", "import requests_ntlm").CombinedOutput(); err2 == nil {
			py, err = "/usr/bin/python3", nil
		}
	}
	if err != nil {
		t.Skip("python3 with requests_ntlm not installed (apt-get install python3-requests-ntlm)")
	}
	conf := filepath.Join(t.TempDir(), "openssl.cnf")
	if err := os.WriteFile(conf, []byte(opensslLegacy), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ logon, pw, want string }{
		{`CONTOSO\svc-sync`, "Pa55w0rd!", "200 CONTOSO\\svc-sync|<one/>\n200 CONTOSO\\svc-sync|<two/>\n"},
		{"svc-sync@contoso.com", "Pa55w0rd!", "200 svc-sync@contoso.com|<one/>\n200 svc-sync@contoso.com|<two/>\n"},
		{`CONTOSO\svc-sync`, "wrong", "401 \n401 \n"},
	}
	for _, tt := range tests {
		t.Run(tt.logon+"/"+tt.pw, func(t *testing.T) {
			f := newFakeIIS(t, []string{"Negotiate", "NTLM"}, nil)
			cmd := exec.Command(py, "-c", pythonNTLM, f.URL, tt.logon, tt.pw)
			cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			if string(out) != tt.want {
				_, _, _, _, failures := f.counts()
				t.Errorf("python requests_ntlm printed %q, want %q (server failures: %v)", out, tt.want, failures)
			}
			if strings.HasPrefix(tt.want, "200") {
				if _, logons, _, conns, _ := f.counts(); logons != 1 || conns != 1 {
					t.Errorf("logons, connections = %d, %d, want 1, 1", logons, conns)
				}
			}
		})
	}
}
