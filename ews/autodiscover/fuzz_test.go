package autodiscover

import (
	"strings"
	"testing"
)

// The parsers read what any server, hostile ones included, sends. They must
// return an answer or an error, never panic or hang, and keep what they echo
// short and on one line.

func checkErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && (strings.ContainsAny(err.Error(), "\r\n") || len(err.Error()) > 600) {
		t.Fatalf("error is multi-line or long: %q", err.Error())
	}
}

func FuzzParseSOAP(f *testing.F) {
	body, _ := soapRequest("https://autodiscover.contoso.example/autodiscover/autodiscover.svc", []string{"a@contoso.example"}, defaultSettings)
	f.Add(body)
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><s:Body><a:GetUserSettingsResponseMessage><a:Response><a:ErrorCode>NoError</a:ErrorCode><a:ErrorMessage/><a:UserResponses><a:UserResponse><a:ErrorCode>NoError</a:ErrorCode><a:ErrorMessage>No error.</a:ErrorMessage><a:RedirectTarget i:nil="true"/><a:UserSettingErrors><a:UserSettingError><a:ErrorCode>InvalidSetting</a:ErrorCode><a:ErrorMessage/><a:SettingName>X</a:SettingName></a:UserSettingError></a:UserSettingErrors><a:UserSettings><a:UserSetting i:type="a:StringSetting"><a:Name>ExternalEwsUrl</a:Name><a:Value>https://mail.contoso.example/EWS/Exchange.asmx</a:Value></a:UserSetting><a:UserSetting i:type="a:WebClientUrlCollectionSetting"><a:Name>ExternalWebClientUrls</a:Name></a:UserSetting></a:UserSettings></a:UserResponse><a:UserResponse><a:ErrorCode>RedirectAddress</a:ErrorCode><a:RedirectTarget>b@contoso.example</a:RedirectTarget></a:UserResponse></a:UserResponses></a:Response></a:GetUserSettingsResponseMessage></s:Body></s:Envelope>`))
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>bad</faultstring></s:Fault></s:Body></s:Envelope>`))
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoErr`))
	f.Add([]byte(strings.Repeat("<a>", 200)))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseSOAP(b)
		checkErr(t, err)
		if err == nil && a.code == "" {
			t.Fatal("parseSOAP accepted an answer without ErrorCode")
		}
	})
}

func FuzzParsePOX(f *testing.F) {
	f.Add([]byte(`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><User><DisplayName>Mara</DisplayName><AutoDiscoverSMTPAddress>mara@contoso.com</AutoDiscoverSMTPAddress></User><Account><AccountType>email</AccountType><Action>settings</Action><Protocol><Type>EXCH</Type><EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl></Protocol><Protocol><Type>EXPR</Type><EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl><GroupingInformation>PRDGRP01</GroupingInformation></Protocol></Account></Response></Autodiscover>`))
	f.Add([]byte(`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectAddr</Action><RedirectAddr>b@fabrikam.com</RedirectAddr></Account></Response></Autodiscover>`))
	f.Add([]byte(`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response><Error Time="1" Id="2"><ErrorCode>500</ErrorCode><Message>not found</Message><DebugData/></Error></Response></Autodiscover>`))
	f.Add([]byte("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parsePOX(b)
		checkErr(t, err)
		if err == nil && a.action != "settings" && a.redirectAddr == "" && a.redirectURL == "" {
			t.Fatalf("parsePOX accepted action %q without a target", a.action)
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"Protocol":"EWS","Url":"https://outlook.office365.com/EWS/Exchange.asmx"}`))
	f.Add([]byte(`{"ErrorCode":"InvalidProtocol","ErrorMessage":"The given protocol value 'x' is invalid."}`))
	f.Add([]byte(`{"Protocol":"ActiveSync","Url":"https://x"}`))
	f.Add([]byte(`{"Protocol":"EWS","Url":"https://a"} {"more":1}`))
	f.Add([]byte(strings.Repeat("[", 10000)))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := parseJSON(b)
		checkErr(t, err)
		if err == nil && u == "" {
			t.Fatal("parseJSON accepted an answer without Url")
		}
	})
}
