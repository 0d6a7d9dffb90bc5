package impersonation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sccsync/scc/org"
)

// TestTokenErrorRedactsEchoedSecret: a token endpoint that quotes the
// client secret (as sent, or URL-encoded as in the form) or the client
// assertion in its error and error_description gets neither into the
// TokenError's fields nor into its message.
func TestTokenErrorRedactsEchoedSecret(t *testing.T) {
	const secret = "app~Secret/9+x"
	echoes := map[string]func(r *http.Request) string{
		"as sent":     func(r *http.Request) string { return r.PostForm.Get("client_secret") },
		"URL-encoded": func(r *http.Request) string { return url.QueryEscape(r.PostForm.Get("client_secret")) },
		"whole form":  func(r *http.Request) string { return r.PostForm.Encode() },
	}
	for name, echo := range echoes {
		t.Run(name, func(t *testing.T) {
			entra := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client " + echo(r),
					"error_description": "AADSTS7000215: Invalid client secret provided: " + echo(r)})
			}))
			t.Cleanup(entra.Close)
			cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "contoso.onmicrosoft.com", ClientID: entraClientID,
				ClientSecret: org.NewSecret(secret)}
			cc, err := NewClientCredentials(cfg, entra.URL, entra.Client())
			if err != nil {
				t.Fatal(err)
			}
			_, err = cc.Token(context.Background())
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("Token() = %v, want a *TokenError", err)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%#v", te), te.Code, te.Description} {
				for _, leak := range []string{secret, url.QueryEscape(secret), "Secret"} {
					if strings.Contains(s, leak) {
						t.Errorf("the secret (%q) shows in %q", leak, s)
					}
				}
			}
		})
	}
}
