package autodiscover

import (
	"fmt"

	"github.com/beevik/etree"
)

// poxRequest builds a POX Autodiscover request for email.
func poxRequest(email string) ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	root := doc.CreateElement("Autodiscover")
	root.CreateAttr("xmlns", nsPOXRequest)
	req := root.CreateElement("Request")
	req.CreateElement("EMailAddress").SetText(email)
	req.CreateElement("AcceptableResponseSchema").SetText(poxSchemaOfAns)
	return doc.WriteToBytes()
}

// poxAnswer is a parsed POX Autodiscover answer.
type poxAnswer struct {
	action       string // settings, redirectAddr or redirectUrl
	redirectAddr string
	redirectURL  string
	settings     UserSettings
}

// parsePOX parses a POX Autodiscover response. An Error element becomes an
// error naming its code and message.
func parsePOX(b []byte) (*poxAnswer, error) {
	root, err := parseXML(b)
	if err != nil {
		return nil, err
	}
	if !is(root, nsPOXBase, "Autodiscover") {
		return nil, fmt.Errorf("the answer's root is <%s>, not a POX Autodiscover response", shorten(root.FullTag()))
	}
	// Errors come in the base namespace (Response/Error); settings in the
	// outlook response schema.
	if r := kid(root, nsPOXBase, "Response"); r != nil {
		if e := kid(r, nsPOXBase, "Error"); e != nil {
			return nil, fmt.Errorf("POX error %s: %s", shorten(text(kid(e, nsPOXBase, "ErrorCode"))), shorten(text(kid(e, nsPOXBase, "Message"))))
		}
	}
	resp := kid(root, nsPOXResponse, "Response")
	if resp == nil {
		return nil, fmt.Errorf("the POX answer has no Response in the outlook response schema")
	}
	if e := kid(resp, nsPOXResponse, "Error"); e != nil {
		return nil, fmt.Errorf("POX error %s: %s", shorten(text(kid(e, nsPOXResponse, "ErrorCode"))), shorten(text(kid(e, nsPOXResponse, "Message"))))
	}
	acct := kid(resp, nsPOXResponse, "Account")
	if acct == nil {
		return nil, fmt.Errorf("the POX answer has no Account")
	}
	a := &poxAnswer{action: text(kid(acct, nsPOXResponse, "Action")), settings: UserSettings{}}
	switch a.action {
	case "redirectAddr":
		a.redirectAddr = text(kid(acct, nsPOXResponse, "RedirectAddr"))
		if a.redirectAddr == "" {
			return nil, fmt.Errorf("the POX answer says redirectAddr without a RedirectAddr")
		}
		return a, nil
	case "redirectUrl":
		a.redirectURL = text(kid(acct, nsPOXResponse, "RedirectUrl"))
		if a.redirectURL == "" {
			return nil, fmt.Errorf("the POX answer says redirectUrl without a RedirectUrl")
		}
		return a, nil
	case "settings":
	default:
		return nil, fmt.Errorf("the POX answer has Action %q; want settings, redirectAddr or redirectUrl", shorten(a.action))
	}
	if u := kid(resp, nsPOXResponse, "User"); u != nil {
		if v := text(kid(u, nsPOXResponse, "DisplayName")); v != "" {
			a.settings[SettingUserDisplayName] = v
		}
		if v := text(kid(u, nsPOXResponse, "AutoDiscoverSMTPAddress")); v != "" {
			a.settings[SettingAutoDiscoverSMTPAddress] = v
		}
	}
	for _, p := range kids(acct, nsPOXResponse, "Protocol") {
		ews := text(kid(p, nsPOXResponse, "EwsUrl"))
		switch text(kid(p, nsPOXResponse, "Type")) {
		case "EXCH":
			if ews != "" {
				a.settings[SettingInternalEwsURL] = ews
			}
		case "EXPR":
			if ews != "" {
				a.settings[SettingExternalEwsURL] = ews
			}
			if g := text(kid(p, nsPOXResponse, "GroupingInformation")); g != "" {
				a.settings[SettingGroupingInformation] = g
			}
		}
	}
	return a, nil
}
