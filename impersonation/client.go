package impersonation

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// NewEWSClient returns an EWS client for cfg's service account: the EWS URL,
// the Exchange version (RequestServerVersion) when set, plain http:// only
// when cfg.AllowInsecureHTTP, and the credentials:
//
//   - Microsoft Exchange Impersonation: Account Logon and Password with NTLM
//     (AuthNTLM), Basic (AuthBasic), or what the server offers
//     (AuthNegotiate, with ews.WithNegotiatedAuth: NTLM when offered, Basic
//     when it is the only offer over https://, one anonymous request and
//     no failed logon to find out).
//   - Exchange Online app-only OAuth: no credentials are derived here
//     (Check, Activate, Renew and Diagnose do derive them); pass a token
//     source in opts: ews.WithBearerToken(cc.Token) with a
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
	if strings.TrimSpace(cfg.EWSURL) == "" && cfg.DiscoverEWSURL {
		return nil, ErrEWSURLNotDiscovered
	}
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
		case org.AuthNegotiate:
			eo = append(eo, ews.WithNegotiatedAuth(cfg.AccountLogon, cfg.Password.Reveal()))
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
