package impersonation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// NewEWSClient returns an EWS client for cfg's service account: the EWS URL,
// the Exchange version (RequestServerVersion) when set, plain http:// only
// when cfg.AllowInsecureHTTP, and the credentials:
//
//   - Microsoft Exchange Impersonation: Account Logon and Password with NTLM
//     (AuthNTLM, and AuthNegotiate, which [CheckUsers] refines to what the
//     server offers) or Basic (AuthBasic).
//   - Exchange Online app-only OAuth: no credentials are derived; pass a
//     token source in opts: ews.WithBearerToken(cc.Token) with a
//     [ClientCredentials] built from the same configuration (client secret
//     or certificate), or any other source such as
//     ews.WithTokenSource(conf.TokenSource(ctx)) with
//     golang.org/x/oauth2/clientcredentials (scope
//     https://outlook.office365.com/.default).
//
// opts are applied after the derived options. The client retries as ews
// does by default; [CheckUsers] turns ews-level retries off to see every
// back-off itself.
func NewEWSClient(cfg org.EmailConfiguration, opts ...ews.Option) (*ews.Client, error) {
	return newEWSClient(cfg, cfg.AuthMethod, opts)
}

func newEWSClient(cfg org.EmailConfiguration, method org.AuthMethod, opts []ews.Option) (*ews.Client, error) {
	var eo []ews.Option
	if cfg.AllowInsecureHTTP {
		eo = append(eo, ews.WithInsecureHTTP())
	}
	if v := strings.TrimSpace(cfg.ExchangeVersion); v != "" {
		eo = append(eo, ews.WithServerVersion(ews.ExchangeVersion(v)))
	}
	switch cfg.AccessType {
	case org.Impersonation:
		if cfg.AccountLogon == "" || cfg.Password.IsZero() {
			return nil, errors.New("impersonation: the email configuration has no Account Logon or Password for the service account")
		}
		switch method {
		case org.AuthBasic:
			eo = append(eo, ews.WithBasicAuth(cfg.AccountLogon, cfg.Password.Reveal()))
		default:
			eo = append(eo, ews.WithNTLM(cfg.AccountLogon, cfg.Password.Reveal()))
		}
	case org.OnlineAppOnly:
		// The caller supplies the token source in opts.
	case org.DirectLogon:
		return nil, ErrDirectLogon
	default:
		return nil, fmt.Errorf("impersonation: unknown Mailbox Access Type %v", cfg.AccessType)
	}
	eo = append(eo, opts...)
	c, err := ews.NewClient(cfg.EWSURL, eo...)
	if err != nil {
		return nil, fmt.Errorf("impersonation: building the EWS client: %w", err)
	}
	return c, nil
}

// negotiateAuth picks NTLM or Basic for AuthNegotiate from the schemes the
// server offers to an anonymous request, which costs no failed logon.
// NTLM (or Negotiate, which carries NTLM) wins; Basic is used only when it
// is the only offer and the URL is https://. Anything else keeps NTLM, and
// the preflight reports what the server said.
func negotiateAuth(ctx context.Context, cfg org.EmailConfiguration, opts []ews.Option, timeout time.Duration) org.AuthMethod {
	anon := cfg
	anon.AccessType = org.OnlineAppOnly // no credentials derived
	c, err := newEWSClient(anon, org.AuthNegotiate, opts)
	if err != nil {
		return org.AuthNTLM
	}
	defer c.CloseIdleConnections()
	c = c.With(ews.UseRetryPolicy(ews.NoRetries()))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderMsgFolderRoot)}})
	var ae *ews.AuthError
	if !errors.As(err, &ae) {
		return org.AuthNTLM
	}
	basic := false
	for _, s := range ae.Offered {
		switch strings.ToLower(s) {
		case "ntlm", "negotiate":
			return org.AuthNTLM
		case "basic":
			basic = true
		}
	}
	if basic && strings.HasPrefix(strings.ToLower(cfg.EWSURL), "https://") {
		return org.AuthBasic
	}
	return org.AuthNTLM
}
