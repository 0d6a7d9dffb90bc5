// Package account reads, for the example commands, how to reach a real
// Exchange server: the EWS URL and either a service account (Account Logon,
// with the password from a file or $SCC_PASSWORD, never echoed) or an
// Exchange Online application (tenant, client id, and a client secret from a
// file or $SCC_CLIENT_SECRET, or a certificate and key).
package account

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
)

// Environment variables that hold the secrets, so that they stay out of the
// process list and the shell history.
const (
	PasswordEnv     = "SCC_PASSWORD"
	ClientSecretEnv = "SCC_CLIENT_SECRET"
)

const exchangeOnlineEWSURL = "https://outlook.office365.com/EWS/Exchange.asmx"

// Flags are the command-line flags that describe the server and the
// credentials. The zero value means: no server given.
type Flags struct {
	EWSURL          string
	Logon           string
	Password        string // -password: unsafe, used only with a warning
	PasswordFile    string
	Auth            string // ntlm, basic, auto or ""
	ExchangeVersion string
	InsecureHTTP    bool
	// Discover lets EWSURL be empty: the program finds it with
	// Autodiscover (checkaccess -discover). Not registered by Register.
	Discover bool

	// Exchange Online app-only OAuth.
	Tenant, ClientID  string
	SecretFile        string
	CertFile, KeyFile string
	Authority         string // "" means impersonation.DefaultAuthority
}

// Register defines the flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.EWSURL, "ews-url", "", "EWS URL, https://<host>/EWS/Exchange.asmx")
	fs.StringVar(&f.Logon, "logon", "", `service account logon, DOMAIN\user or user@domain`)
	fs.StringVar(&f.PasswordFile, "password-file", "", "file holding the service account's password (default: $"+PasswordEnv+")")
	fs.StringVar(&f.Password, "password", "", "the password itself (UNSAFE: visible in the process list and shell history)")
	fs.StringVar(&f.Auth, "auth", "auto", "authentication: ntlm, basic or auto (what the server offers)")
	fs.StringVar(&f.ExchangeVersion, "exchange-version", "", "RequestServerVersion, e.g. Exchange2013_SP1 (default: the client's)")
	fs.BoolVar(&f.InsecureHTTP, "insecure-http", false, "allow an http:// EWS URL (lab servers only)")
	fs.StringVar(&f.Tenant, "tenant", "", "Exchange Online app-only: the Microsoft Entra tenant (GUID or contoso.onmicrosoft.com)")
	fs.StringVar(&f.ClientID, "client-id", "", "Exchange Online app-only: the application (client) ID; the secret comes from $"+ClientSecretEnv+" or -client-secret-file")
	fs.StringVar(&f.SecretFile, "client-secret-file", "", "Exchange Online app-only: file holding the client secret")
	fs.StringVar(&f.CertFile, "cert-file", "", "Exchange Online app-only: the app's certificate (PEM), instead of a secret")
	fs.StringVar(&f.KeyFile, "key-file", "", "Exchange Online app-only: the certificate's RSA private key (PEM)")
	fs.StringVar(&f.Authority, "authority", impersonation.DefaultAuthority, "Exchange Online app-only: the Microsoft Entra ID authority")
}

// AppOnly reports whether the flags ask for Exchange Online app-only OAuth
// (-tenant or -client-id).
func (f *Flags) AppOnly() bool { return f.Tenant != "" || f.ClientID != "" }

// Configuration returns the email configuration the flags describe, and
// the options it needs: for app-only access, the Microsoft Entra ID
// authority when it is not the default (the library gets the tokens from
// the configuration itself). It warns on stderr when the password came
// from -password.
func (f *Flags) Configuration(stderr io.Writer) (org.EmailConfiguration, []impersonation.Option, error) {
	if f.AppOnly() {
		cfg, err := f.appOnly()
		if err != nil {
			return cfg, nil, err
		}
		if f.Authority == "" || f.Authority == impersonation.DefaultAuthority {
			return cfg, nil, nil
		}
		return cfg, []impersonation.Option{impersonation.WithAuthority(f.Authority)}, nil
	}
	if (f.EWSURL == "" && !f.Discover) || f.Logon == "" {
		return org.EmailConfiguration{}, nil, errors.New("need -ews-url and -logon (or -tenant and -client-id for Exchange Online app-only)")
	}
	cfg := org.EmailConfiguration{
		AccessType:        org.Impersonation,
		AccountLogon:      f.Logon,
		EWSURL:            f.EWSURL,
		DiscoverEWSURL:    f.Discover,
		ExchangeVersion:   f.ExchangeVersion,
		AllowInsecureHTTP: f.InsecureHTTP,
	}
	switch strings.ToLower(f.Auth) {
	case "ntlm":
		cfg.AuthMethod = org.AuthNTLM
	case "basic":
		cfg.AuthMethod = org.AuthBasic
	case "auto", "":
		cfg.AuthMethod = org.AuthNegotiate
	default:
		return org.EmailConfiguration{}, nil, fmt.Errorf("-auth %q: want ntlm, basic or auto", f.Auth)
	}
	pw, err := f.password(stderr)
	if err != nil {
		return org.EmailConfiguration{}, nil, err
	}
	cfg.Password = org.NewSecret(pw)
	return cfg, nil, nil
}

// appOnly is the Exchange Online app-only configuration.
func (f *Flags) appOnly() (org.EmailConfiguration, error) {
	cfg := org.EmailConfiguration{
		AccessType:      org.OnlineAppOnly,
		EWSURL:          f.EWSURL,
		TenantID:        f.Tenant,
		ClientID:        f.ClientID,
		ExchangeVersion: f.ExchangeVersion,
	}
	if cfg.EWSURL == "" {
		cfg.EWSURL = exchangeOnlineEWSURL
	}
	switch {
	case f.CertFile != "" || f.KeyFile != "":
		cert, err := os.ReadFile(f.CertFile)
		if err != nil {
			return cfg, err
		}
		key, err := os.ReadFile(f.KeyFile)
		if err != nil {
			return cfg, err
		}
		cfg.CertificatePEM, cfg.PrivateKey = string(cert), org.NewSecret(string(key))
	case f.SecretFile != "":
		b, err := os.ReadFile(f.SecretFile)
		if err != nil {
			return cfg, err
		}
		cfg.ClientSecret = org.NewSecret(strings.TrimRight(string(b), "\r\n"))
	case os.Getenv(ClientSecretEnv) != "":
		cfg.ClientSecret = org.NewSecret(os.Getenv(ClientSecretEnv))
	default:
		return cfg, errors.New("no client secret: set $" + ClientSecretEnv + ", or use -client-secret-file or -cert-file with -key-file")
	}
	return cfg, nil
}

// password reads the password from -password-file, $SCC_PASSWORD or, with
// a warning, -password.
func (f *Flags) password(stderr io.Writer) (string, error) {
	switch {
	case f.PasswordFile != "":
		b, err := os.ReadFile(f.PasswordFile)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case os.Getenv(PasswordEnv) != "":
		return os.Getenv(PasswordEnv), nil
	case f.Password != "":
		fmt.Fprintln(stderr, "WARNING: -password puts the service account's password in the process list and your shell history; use $"+PasswordEnv+" or -password-file.")
		return f.Password, nil
	}
	return "", errors.New("no password: set $" + PasswordEnv + " or use -password-file")
}
