package autodiscover

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// soapRequest builds a GetUserSettings request for mailboxes at to.
func soapRequest(to string, mailboxes, settings []string) ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	env := doc.CreateElement("soap:Envelope")
	env.CreateAttr("xmlns:soap", nsSOAP)
	env.CreateAttr("xmlns:a", nsAD)
	env.CreateAttr("xmlns:wsa", nsWSA)
	env.CreateAttr("xmlns:xsi", nsXSI)
	h := env.CreateElement("soap:Header")
	h.CreateElement("a:RequestedServerVersion").SetText("Exchange2013")
	h.CreateElement("wsa:Action").SetText(soapActionGetUserSettings)
	h.CreateElement("wsa:To").SetText(to)
	req := env.CreateElement("soap:Body").CreateElement("a:GetUserSettingsRequestMessage").CreateElement("a:Request")
	users := req.CreateElement("a:Users")
	for _, m := range mailboxes {
		users.CreateElement("a:User").CreateElement("a:Mailbox").SetText(m)
	}
	rs := req.CreateElement("a:RequestedSettings")
	for _, s := range settings {
		rs.CreateElement("a:Setting").SetText(s)
	}
	return doc.WriteToBytes()
}

// soapUser is one UserResponse of a GetUserSettings answer.
type soapUser struct {
	code           string // ErrorCode, "NoError" on success
	message        string
	redirectTarget string
	settings       UserSettings
	settingErrors  []SettingError
}

// soapAnswer is a parsed GetUserSettings answer.
type soapAnswer struct {
	code    string // top-level Response/ErrorCode
	message string
	users   []soapUser
}

// parseSOAP parses a GetUserSettings response (or a SOAP fault).
func parseSOAP(b []byte) (*soapAnswer, error) {
	root, err := parseXML(b)
	if err != nil {
		return nil, err
	}
	if !is(root, nsSOAP, "Envelope") {
		return nil, fmt.Errorf("the answer's root is <%s>, not a SOAP 1.1 Envelope", shorten(root.FullTag()))
	}
	body := kid(root, nsSOAP, "Body")
	if body == nil {
		return nil, fmt.Errorf("the SOAP answer has no Body")
	}
	if f := kid(body, nsSOAP, "Fault"); f != nil {
		code := text(f.SelectElement("faultcode"))
		msg := text(f.SelectElement("faultstring"))
		return nil, fmt.Errorf("SOAP fault %s: %s", shorten(code), shorten(msg))
	}
	msg := kid(body, nsAD, "GetUserSettingsResponseMessage")
	if msg == nil {
		return nil, fmt.Errorf("the SOAP Body holds no GetUserSettingsResponseMessage")
	}
	resp := kid(msg, nsAD, "Response")
	if resp == nil {
		return nil, fmt.Errorf("the GetUserSettingsResponseMessage has no Response")
	}
	a := &soapAnswer{code: text(kid(resp, nsAD, "ErrorCode")), message: shorten(text(kid(resp, nsAD, "ErrorMessage")))}
	if a.code == "" {
		return nil, fmt.Errorf("the GetUserSettings Response has no ErrorCode")
	}
	for _, ur := range kids(kid(resp, nsAD, "UserResponses"), nsAD, "UserResponse") {
		u := soapUser{
			code:           text(kid(ur, nsAD, "ErrorCode")),
			message:        shorten(text(kid(ur, nsAD, "ErrorMessage"))),
			redirectTarget: text(kid(ur, nsAD, "RedirectTarget")),
			settings:       UserSettings{},
		}
		if u.code == "" {
			return nil, fmt.Errorf("UserResponse %d has no ErrorCode", len(a.users)+1)
		}
		for _, s := range kids(kid(ur, nsAD, "UserSettings"), nsAD, "UserSetting") {
			name := text(kid(s, nsAD, "Name"))
			if name == "" {
				return nil, fmt.Errorf("UserResponse %d has a UserSetting without Name", len(a.users)+1)
			}
			typ := s.SelectAttrValue("i:type", s.SelectAttrValue("xsi:type", ""))
			if _, local, ok := strings.Cut(typ, ":"); ok {
				typ = local
			}
			if typ != "" && typ != "StringSetting" {
				// Collection settings (WebClientUrls, AlternateMailboxes,
				// ...) are not strings; record that they were returned.
				u.settings[name] = ""
				continue
			}
			u.settings[name] = text(kid(s, nsAD, "Value"))
		}
		for _, e := range kids(kid(ur, nsAD, "UserSettingErrors"), nsAD, "UserSettingError") {
			u.settingErrors = append(u.settingErrors, SettingError{
				Setting: text(kid(e, nsAD, "SettingName")),
				Code:    text(kid(e, nsAD, "ErrorCode")),
				Message: shorten(text(kid(e, nsAD, "ErrorMessage"))),
			})
		}
		a.users = append(a.users, u)
	}
	return a, nil
}
