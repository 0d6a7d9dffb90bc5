package scctest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// SeedFile is the JSON format [Server.Seed] reads, for setups richer than
// flags allow (the standalone fake's -seed FILE). Example:
//
//	{
//	  "mailboxes": [
//	    {"primarySmtp": "alice@contoso.example", "proxyAddresses": ["a@contoso.example"],
//	     "upn": "alice@ad.contoso.example", "displayName": "Alice", "password": "pw",
//	     "items": [{"folder": "inbox", "subject": "Hello", "body": "Hi", "from": "bob@contoso.example",
//	                "to": ["alice@contoso.example"], "isRead": false, "received": "2024-05-01T10:00:00Z"}]}
//	  ],
//	  "serviceAccounts": [
//	    {"logon": "CONTOSO\\svc-sync", "password": "pw", "impersonate": "all"},
//	    {"logon": "svc-limited@contoso.example", "password": "pw", "impersonate": ["alice@contoso.example"]},
//	    {"logon": "CONTOSO\\nobody", "password": "pw", "impersonate": "none"}
//	  ],
//	  "tokens": [
//	    {"token": "app-token", "kind": "app", "appId": "11111111-2222-3333-4444-555555555555"},
//	    {"token": "user-token", "kind": "delegated", "user": "alice@contoso.example"}
//	  ]
//	}
//
// "impersonate" is "all", "none" or a list of mailboxes (a management
// scope). Token "kind" is "app" (app-only) or "delegated"; "scope" limits an
// app-only token to some mailboxes.
type SeedFile struct {
	Mailboxes       []SeedMailbox `json:"mailboxes"`
	ServiceAccounts []SeedAccount `json:"serviceAccounts"`
	Tokens          []SeedToken   `json:"tokens"`
}

// SeedMailbox is a mailbox of a [SeedFile].
type SeedMailbox struct {
	PrimarySMTP    string     `json:"primarySmtp"`
	ProxyAddresses []string   `json:"proxyAddresses,omitempty"`
	UPN            string     `json:"upn,omitempty"`
	SID            string     `json:"sid,omitempty"`
	DisplayName    string     `json:"displayName,omitempty"`
	Password       string     `json:"password,omitempty"`
	Items          []SeedItem `json:"items,omitempty"`
}

// SeedItem is a message of a [SeedMailbox].
type SeedItem struct {
	Folder   string    `json:"folder"`
	Subject  string    `json:"subject"`
	Body     string    `json:"body,omitempty"`
	BodyType string    `json:"bodyType,omitempty"`
	From     string    `json:"from,omitempty"`
	To       []string  `json:"to,omitempty"`
	Cc       []string  `json:"cc,omitempty"`
	IsRead   bool      `json:"isRead,omitempty"`
	Received time.Time `json:"received,omitempty"`
}

// SeedAccount is a service account of a [SeedFile].
type SeedAccount struct {
	Logon       string          `json:"logon"`
	Password    string          `json:"password"`
	Impersonate json.RawMessage `json:"impersonate,omitempty"`
}

// SeedToken is a bearer token of a [SeedFile].
type SeedToken struct {
	Token string   `json:"token"`
	Kind  string   `json:"kind"`
	AppID string   `json:"appId,omitempty"`
	User  string   `json:"user,omitempty"`
	Scope []string `json:"scope,omitempty"`
}

// Seed loads a [SeedFile] from r into the server.
func (s *Server) Seed(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f SeedFile
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("scctest: Seed: %w", err)
	}
	for _, m := range f.Mailboxes {
		if _, err := s.AddMailbox(Mailbox{PrimarySMTP: m.PrimarySMTP, ProxyAddresses: m.ProxyAddresses, UPN: m.UPN, SID: m.SID, DisplayName: m.DisplayName, Password: m.Password}); err != nil {
			return err
		}
		for _, it := range m.Items {
			msg := Message{Subject: it.Subject, Body: it.Body, BodyType: BodyType(it.BodyType), From: it.From, To: it.To, Cc: it.Cc, IsRead: it.IsRead, Received: it.Received}
			if _, err := s.AddItem(m.PrimarySMTP, it.Folder, msg); err != nil {
				return err
			}
		}
	}
	for _, a := range f.ServiceAccounts {
		g, err := parseSeedGrant(a.Impersonate)
		if err != nil {
			return fmt.Errorf("scctest: Seed: service account %s: %w", a.Logon, err)
		}
		if err := s.AddServiceAccount(a.Logon, a.Password, g); err != nil {
			return err
		}
	}
	for _, t := range f.Tokens {
		var kind TokenKind
		switch strings.ToLower(t.Kind) {
		case "app", "apponly", "app-only":
			kind = AppOnly
		case "delegated", "user":
			kind = Delegated
		default:
			return fmt.Errorf("%w: Seed: token kind %q (want \"app\" or \"delegated\")", ErrInvalid, t.Kind)
		}
		if err := s.AddToken(t.Token, Token{Kind: kind, AppID: t.AppID, User: t.User, Scope: t.Scope}); err != nil {
			return err
		}
	}
	return nil
}

func parseSeedGrant(raw json.RawMessage) (Grant, error) {
	if len(raw) == 0 {
		return NoImpersonation(), nil
	}
	var word string
	if err := json.Unmarshal(raw, &word); err == nil {
		switch strings.ToLower(word) {
		case "all":
			return ImpersonateAll(), nil
		case "none", "":
			return NoImpersonation(), nil
		}
		return Grant{}, fmt.Errorf("%w: impersonate %q (want \"all\", \"none\" or a list of mailboxes)", ErrInvalid, word)
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return Grant{}, fmt.Errorf("%w: impersonate must be \"all\", \"none\" or a list of mailboxes", ErrInvalid)
	}
	return ImpersonateScope(list...), nil
}
