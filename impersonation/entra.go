package impersonation

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// DefaultAuthority is Microsoft Entra ID's endpoint for the global cloud.
// Sovereign clouds use their own, e.g. https://login.microsoftonline.us.
const DefaultAuthority = "https://login.microsoftonline.com"

// exchangeOnlineScope is the scope of an app-only token for EWS.
const exchangeOnlineScope = "https://outlook.office365.com/.default"

// tokenRefreshMargin: a cached token is replaced this long before it
// expires.
const tokenRefreshMargin = 2 * time.Minute

// ClientCredentials fetches app-only access tokens for Exchange Online EWS
// from Microsoft Entra ID with the OAuth 2.0 client-credentials flow, for an
// email configuration of type org.OnlineAppOnly: the application (client)
// ID, the tenant, and a client secret or a certificate with its RSA private
// key (sent as a signed client assertion). Tokens are cached until shortly
// before they expire. Check, Activate, Renew and Diagnose build one from
// the configuration themselves ([WithAuthority], [WithHTTPClient]); build
// one yourself for other EWS clients, e.g.
//
//	impersonation.NewEWSClient(cfg, ews.WithBearerToken(cc.Token))
//
// The application needs the full_access_as_app application permission of
// Office 365 Exchange Online with admin consent. A ClientCredentials is safe
// for concurrent use. Other token sources work too: [WithBearerToken] for
// the entry points of this package, ews.WithTokenSource for an EWS client
// (for example golang.org/x/oauth2/clientcredentials).
//
// Every rendering of a ClientCredentials (or of the value it points to) is
// free of the secret, the private key and the cached token: fmt's verbs,
// JSON and slog show only the application, the kind of credential and the
// token endpoint.
type ClientCredentials struct {
	c *ccState // behind a pointer, so that fmt cannot walk into the fields
}

// ccState is what a ClientCredentials holds.
type ccState struct {
	tokenURL string
	clientID string
	secret   org.Secret
	cert     []byte // DER
	key      *rsa.PrivateKey
	hc       *http.Client
	now      func() time.Time

	mu     sync.Mutex
	token  org.Secret
	expiry time.Time
}

// NewClientCredentials prepares token requests for cfg against authority
// (empty means [DefaultAuthority]; it must be https://). hc is the HTTP
// client for the token endpoint; nil means one with a 30-second timeout.
func NewClientCredentials(cfg org.EmailConfiguration, authority string, hc *http.Client) (*ClientCredentials, error) {
	if cfg.AccessType != org.OnlineAppOnly {
		return nil, fmt.Errorf("impersonation: client credentials need the %s access type, not %s", org.OnlineAppOnly.Title(), cfg.AccessType.Title())
	}
	tenant := strings.TrimSpace(cfg.TenantID)
	if tenant == "" || strings.ContainsAny(tenant, "/?#") {
		return nil, fmt.Errorf("impersonation: Tenant ID %q: want the tenant's GUID or domain (contoso.onmicrosoft.com)", tenant)
	}
	tokenURL, err := tokenEndpoint(authority, tenant)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, errors.New("impersonation: Client ID is empty: want the application (client) ID of the app registration")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	hc = noRedirects(hc)
	cc := &ccState{
		tokenURL: tokenURL,
		clientID: strings.TrimSpace(cfg.ClientID),
		secret:   cfg.ClientSecret,
		hc:       hc,
		now:      time.Now,
	}
	if cfg.ClientSecret.IsZero() {
		if cc.cert, cc.key, err = parseCertificate(cfg.CertificatePEM, cfg.PrivateKey.Reveal()); err != nil {
			return nil, err
		}
	}
	return &ClientCredentials{c: cc}, nil
}

// tokenEndpoint is the OAuth 2.0 token endpoint of tenant at authority
// (empty: [DefaultAuthority]), which must be https:// without user
// information, query or fragment. Plain http:// is refused: the request
// carries the client secret or assertion.
func tokenEndpoint(authority, tenant string) (string, error) {
	if authority == "" {
		authority = DefaultAuthority
	}
	u, err := url.Parse(authority)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// Not echoed: an authority with user information or a query may
		// hold a secret.
		return "", fmt.Errorf("impersonation: authority %s: want an https:// URL without user information, query or fragment, such as %s", redactURL(authority), DefaultAuthority)
	}
	return strings.TrimSuffix(u.String(), "/") + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token", nil
}

// ErrTokenRedirect is matched (errors.Is) by the error of a token request
// that the endpoint answered with a redirect. The request carries the
// client secret or assertion, so it is never sent on to another URL.
var ErrTokenRedirect = errors.New("impersonation: the token endpoint answered with a redirect; the request carries the client secret or assertion, so it is not sent on")

// noRedirects returns a copy of hc (sharing its transport) that follows no
// redirect: a 307 or 308 would re-POST the client secret to wherever the
// Location points, over http:// too.
func noRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return &wrappedError{
			msg: fmt.Sprintf("impersonation: the token endpoint redirected to %s (%s); refusing to send the client secret or assertion there: configure the authority that issues the tokens", req.URL.Host, req.URL.Scheme),
			err: ErrTokenRedirect,
		}
	}
	return &c
}

// parseCertificate reads the app's certificate and RSA private key.
func parseCertificate(certPEM, keyPEM string) ([]byte, *rsa.PrivateKey, error) {
	if certPEM == "" || keyPEM == "" {
		return nil, nil, errors.New("impersonation: no client secret and no certificate with private key: configure one of them")
	}
	var der []byte
	for rest := []byte(certPEM); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			der = b.Bytes
			break
		}
	}
	if der == nil {
		return nil, nil, errors.New("impersonation: Certificate holds no PEM CERTIFICATE block")
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return nil, nil, fmt.Errorf("impersonation: Certificate does not parse: %w", err)
	}
	kb, _ := pem.Decode([]byte(keyPEM))
	if kb == nil {
		return nil, nil, errors.New("impersonation: Private Key holds no PEM block")
	}
	var key any
	var err error
	switch kb.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	}
	if err != nil {
		return nil, nil, errors.New("impersonation: Private Key does not parse as PKCS#1 or PKCS#8")
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("impersonation: Private Key is not an RSA key; Microsoft Entra ID client assertions need RSA")
	}
	return der, rk, nil
}

// TokenError is Microsoft Entra ID's refusal of a token request.
type TokenError struct {
	// StatusCode is the HTTP status of the token endpoint's answer.
	StatusCode int
	// Code and Description are the OAuth error and error_description
	// (with the client secret or assertion redacted if the endpoint quoted it),
	// e.g. "invalid_client" and "AADSTS7000215: Invalid client secret…".
	Code, Description string
}

// Error describes the refusal; it never contains the secret.
func (e *TokenError) Error() string {
	s := fmt.Sprintf("impersonation: Microsoft Entra ID refused the token request (HTTP %d)", e.StatusCode)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + firstLine(e.Description)
	}
	return s + "; check the tenant, the client ID and the secret or certificate of the app registration"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// Token returns a valid access token, fetching a new one when the cached
// one is about to expire. Its signature fits ews.WithBearerToken.
func (cc *ClientCredentials) Token(ctx context.Context) (string, error) {
	if cc == nil || cc.c == nil {
		return "", errors.New("impersonation: ClientCredentials is not initialised; build it with NewClientCredentials")
	}
	return cc.c.fetch(ctx)
}

// fetch returns the cached token or requests a new one.
func (c *ccState) fetch(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.token.IsZero() && c.now().Add(tokenRefreshMargin).Before(c.expiry) {
		return c.token.Reveal(), nil
	}
	form := url.Values{
		"client_id":  {c.clientID},
		"scope":      {exchangeOnlineScope},
		"grant_type": {"client_credentials"},
	}
	var sent string // the credential, for redacting it from an echo
	if !c.secret.IsZero() {
		sent = c.secret.Reveal()
		form.Set("client_secret", sent)
	} else {
		assertion, err := c.assertion()
		if err != nil {
			return "", err
		}
		sent = assertion
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("impersonation: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		var re *wrappedError
		if errors.As(err, &re) && errors.Is(re, ErrTokenRedirect) {
			return "", re
		}
		return "", fmt.Errorf("impersonation: token request to %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("impersonation: reading the token response: %w", err)
	}
	var tr struct {
		AccessToken string      `json:"access_token"`
		TokenType   string      `json:"token_type"`
		ExpiresIn   json.Number `json:"expires_in"`
		Error       string      `json:"error"`
		Description string      `json:"error_description"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		// A token endpoint may quote the request, secret included.
		return "", &TokenError{StatusCode: resp.StatusCode, Code: ews.Redact(tr.Error, sent), Description: ews.Redact(tr.Description, sent)}
	}
	if !strings.EqualFold(tr.TokenType, "Bearer") {
		return "", fmt.Errorf("impersonation: the token endpoint returned a %q token, want Bearer", tr.TokenType)
	}
	secs, err := tr.ExpiresIn.Int64()
	if err != nil || secs <= 0 {
		secs = 300
	}
	c.token = org.NewSecret(tr.AccessToken)
	c.expiry = c.now().Add(time.Duration(secs) * time.Second)
	return tr.AccessToken, nil
}

// assertion builds the signed JWT that proves possession of the
// certificate's key (RS256, with the certificate's SHA-1 thumbprint as
// x5t and its SHA-256 thumbprint as x5t#S256).
func (c *ccState) assertion() (string, error) {
	sha1sum := sha1.Sum(c.cert)
	sha256sum := sha256.Sum256(c.cert)
	header, _ := json.Marshal(map[string]string{
		"alg":      "RS256",
		"typ":      "JWT",
		"x5t":      base64.RawURLEncoding.EncodeToString(sha1sum[:]),
		"x5t#S256": base64.RawURLEncoding.EncodeToString(sha256sum[:]),
	})
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	now := c.now()
	claims, _ := json.Marshal(map[string]any{
		"aud": c.tokenURL,
		"iss": c.clientID,
		"sub": c.clientID,
		"jti": hex.EncodeToString(jti),
		"nbf": now.Unix(),
		"iat": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	})
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("impersonation: signing the client assertion: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// String describes the credentials without secrets.
func (cc ClientCredentials) String() string {
	if cc.c == nil {
		return "client credentials (not initialised)"
	}
	kind := "client secret"
	if cc.c.key != nil {
		kind = "certificate"
	}
	return fmt.Sprintf("client credentials for application %s (%s) at %s", cc.c.clientID, kind, cc.c.tokenURL)
}

// GoString is String, so %#v shows no secret either.
func (cc ClientCredentials) GoString() string { return cc.String() }

// Format writes String for every verb and flag, so that no verb (%v, %+v,
// %#v, %s, %q, %x, …) reaches a secret.
func (cc ClientCredentials) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", cc.String())
	default:
		io.WriteString(f, cc.String())
	}
}

// MarshalJSON renders the description of String as a JSON string.
func (cc ClientCredentials) MarshalJSON() ([]byte, error) { return json.Marshal(cc.String()) }

// LogValue is String, for log/slog.
func (cc ClientCredentials) LogValue() slog.Value { return slog.StringValue(cc.String()) }
