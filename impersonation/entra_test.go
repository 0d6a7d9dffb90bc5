package impersonation

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// entraFake is a token endpoint that checks the client-credentials request
// (secret, or a client assertion verified against the certificate) and
// issues accessToken.
type entraFake struct {
	srv         *httptest.Server
	secret      string
	cert        *x509.Certificate
	accessToken string
	clientID    string
	requests    atomic.Int64
}

func newEntraFake(t *testing.T, secret string, cert *x509.Certificate) *entraFake {
	t.Helper()
	e := &entraFake{secret: secret, cert: cert, accessToken: "entra-issued-token", clientID: entraClientID}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *entraFake) serve(w http.ResponseWriter, r *http.Request) {
	e.requests.Add(1)
	deny := func(code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/contoso.onmicrosoft.com/oauth2/v2.0/token" || r.ParseForm() != nil {
		deny("invalid_request", "bad path or method "+r.URL.Path)
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" || f.Get("scope") != "https://outlook.office365.com/.default" || f.Get("client_id") != e.clientID {
		deny("invalid_request", fmt.Sprintf("bad form %v", f))
		return
	}
	switch {
	case e.secret != "":
		if f.Get("client_secret") != e.secret {
			deny("invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return
		}
	default:
		if err := e.verifyAssertion(r, f.Get("client_assertion_type"), f.Get("client_assertion")); err != nil {
			deny("invalid_client", "AADSTS700027: "+err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":%q}`, e.accessToken)
}

func (e *entraFake) verifyAssertion(r *http.Request, typ, jwt string) error {
	if typ != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return errors.New("assertion type " + typ)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(e.cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	var claims struct {
		Aud, Iss, Sub string
		Exp           int64
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(raw, &claims); err != nil {
		return err
	}
	if claims.Iss != e.clientID || claims.Sub != e.clientID || claims.Aud != "https://"+r.Host+r.URL.Path || claims.Exp < time.Now().Unix() {
		return fmt.Errorf("claims %+v", claims)
	}
	return nil
}

const entraClientID = "8f3c2b1a-1111-4222-8333-944455556666"

func selfSigned(t *testing.T) (*x509.Certificate, string, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "scc-sync"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	return cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
}

// TestClientCredentials checks Exchange Online app-only access end to end:
// a token from the (fake) Entra endpoint, by client secret and by
// certificate, used by the check against the fake Exchange server.
func TestClientCredentials(t *testing.T) {
	cert, certPEM, keyPEM := selfSigned(t)
	tests := []struct {
		name   string
		secret string
		cfg    func(*org.EmailConfiguration)
	}{
		{"client secret", "app-secret", func(c *org.EmailConfiguration) { c.ClientSecret = org.NewSecret("app-secret") }},
		{"certificate", "", func(c *org.EmailConfiguration) {
			c.CertificatePEM, c.PrivateKey = certPEM, org.NewSecret(keyPEM)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entra := newEntraFake(t, tt.secret, cert)
			srv := scctest.NewTLSServer(t)
			if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: "anna@contoso.example"}); err != nil {
				t.Fatal(err)
			}
			if err := srv.AddToken(entra.accessToken, scctest.Token{Kind: scctest.AppOnly, AppID: entraClientID}); err != nil {
				t.Fatal(err)
			}
			cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, EWSURL: srv.EWSURL(),
				TenantID: "contoso.onmicrosoft.com", ClientID: entraClientID}
			tt.cfg(&cfg)
			cc, err := NewClientCredentials(cfg, entra.srv.URL, entra.srv.Client())
			if err != nil {
				t.Fatalf("NewClientCredentials() error = %v", err)
			}
			users := []org.User{{PrimarySMTP: "anna@contoso.example"}}
			for range 2 {
				rep, err := CheckUsers(context.Background(), cfg, users, WithHTTPClient(srv.Client()), WithBearerToken(cc.Token))
				if err != nil || rep.Counts[StatusOK] != 1 {
					t.Fatalf("CheckUsers() = %v, %v; want anna ok", rep.Counts, err)
				}
			}
			if n := entra.requests.Load(); n != 1 {
				t.Errorf("token endpoint saw %d requests, want 1 (the token is cached)", n)
			}
			for _, s := range []string{fmt.Sprintf("%v %+v %#v", cc, cc, cc)} {
				if strings.Contains(s, "app-secret") || strings.Contains(s, "PRIVATE") || strings.Contains(s, entra.accessToken) {
					t.Errorf("formatting the credentials reveals a secret: %s", s)
				}
			}
		})
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	cert, _, _ := selfSigned(t)
	entra := newEntraFake(t, "right", cert)
	cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "contoso.onmicrosoft.com", ClientID: entraClientID,
		ClientSecret: org.NewSecret("wrong")}
	cc, err := NewClientCredentials(cfg, entra.srv.URL, entra.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = cc.Token(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || te.Code != "invalid_client" || strings.Contains(err.Error(), "wrong") {
		t.Errorf("Token() with a wrong secret = %v, want a *TokenError invalid_client that does not repeat the secret", err)
	}
	bad := []struct {
		name      string
		cfg       org.EmailConfiguration
		authority string
	}{
		{"impersonation type", org.EmailConfiguration{AccessType: org.Impersonation}, ""},
		{"http authority", cfg, "http://login.example"},
		{"no tenant", org.EmailConfiguration{AccessType: org.OnlineAppOnly, ClientID: "x", ClientSecret: org.NewSecret("s")}, ""},
		{"no client id", org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "t"}, ""},
		{"no credential", org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "t", ClientID: "x"}, ""},
		{"bad key", org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "t", ClientID: "x",
			CertificatePEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", PrivateKey: org.NewSecret("nope")}, ""},
	}
	for _, tt := range bad {
		if _, err := NewClientCredentials(tt.cfg, tt.authority, nil); err == nil {
			t.Errorf("NewClientCredentials(%s) = nil error, want one", tt.name)
		}
	}
}

// TestClientCredentialsRefusesRedirects: a token endpoint that redirects
// (307 and 308 would re-POST the form, secret included) gets no second
// request anywhere, and the error names where it pointed.
func TestClientCredentialsRefusesRedirects(t *testing.T) {
	var elsewhere atomic.Int64
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"stolen"}`)
	}))
	t.Cleanup(foreign.Close)
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			entra := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, foreign.URL+"/collect", code)
			}))
			t.Cleanup(entra.Close)
			cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "contoso.onmicrosoft.com", ClientID: entraClientID,
				ClientSecret: org.NewSecret("app-secret-6")}
			cc, err := NewClientCredentials(cfg, entra.URL, entra.Client())
			if err != nil {
				t.Fatal(err)
			}
			_, err = cc.Token(context.Background())
			host := strings.TrimPrefix(foreign.URL, "http://")
			if !errors.Is(err, ErrTokenRedirect) || !strings.Contains(err.Error(), host) || strings.Contains(err.Error(), "app-secret-6") {
				t.Errorf("Token() after a %d = %v, want ErrTokenRedirect naming %s", code, err, host)
			}
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("the redirect target received %d requests, want 0", n)
			}
		})
	}
}

// TestClientCredentialsRedacts: no fmt verb, JSON or slog rendering of a
// ClientCredentials, its pointer or a struct holding either shows the
// client secret, the private key or the cached token.
func TestClientCredentialsRedacts(t *testing.T) {
	cert, certPEM, keyPEM := selfSigned(t)
	for _, tt := range []struct {
		name, secret string
		cfg          func(*org.EmailConfiguration)
	}{
		{"client secret", "app-secret-7", func(c *org.EmailConfiguration) { c.ClientSecret = org.NewSecret("app-secret-7") }},
		{"certificate", "", func(c *org.EmailConfiguration) { c.CertificatePEM, c.PrivateKey = certPEM, org.NewSecret(keyPEM) }},
	} {
		entra := newEntraFake(t, tt.secret, cert)
		cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "contoso.onmicrosoft.com", ClientID: entraClientID}
		tt.cfg(&cfg)
		cc, err := NewClientCredentials(cfg, entra.srv.URL, entra.srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cc.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
		holder := struct {
			P *ClientCredentials
			V ClientCredentials
		}{cc, *cc}
		renderings := map[string]string{}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			renderings[verb+" pointer"] = fmt.Sprintf(verb, cc)
			renderings[verb+" value"] = fmt.Sprintf(verb, *cc)
			renderings[verb+" holder"] = fmt.Sprintf(verb, holder)
		}
		renderings["GoString"] = cc.GoString()
		for name, v := range map[string]any{"pointer": cc, "value": *cc, "holder": holder} {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			renderings["JSON "+name] = string(b)
			var text, js strings.Builder
			slog.New(slog.NewTextHandler(&text, nil)).Info("m", "cc", v)
			slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "cc", v)
			renderings["slog text "+name] = text.String()
			renderings["slog JSON "+name] = js.String()
		}
		for name, got := range renderings {
			for _, secret := range []string{"app-secret-7", "PRIVATE", "entra-issued-token", "MII"} {
				if strings.Contains(got, secret) {
					t.Errorf("%s: %s of the credentials = %q, reveals %q", tt.name, name, got, secret)
				}
			}
			if strings.Contains(name, "holder") || strings.Contains(name, "GoString") || name == "%x pointer" || name == "%x value" || name == "%d pointer" || name == "%d value" {
				continue
			}
			if !strings.Contains(got, entraClientID) {
				t.Errorf("%s: %s of the credentials = %q, want it to name the application", tt.name, name, got)
			}
		}
	}
}
