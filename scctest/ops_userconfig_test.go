package scctest

import (
	"encoding/base64"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestUserConfigurationWire drives the user configuration operations with
// raw requests, so every answer is captured for the schema check.
func TestUserConfigurationWire(t *testing.T) {
	s := newTestServer(t)
	name := func(n string) string {
		return `<t:UserConfigurationName Name="` + n + `"><t:DistinguishedFolderId Id="calendar"/></t:UserConfigurationName>`
	}
	xml := base64.StdEncoding.EncodeToString([]byte(`<categories default="x"/>`))
	create := `<m:CreateUserConfiguration><m:UserConfiguration>` + name("CategoryList") +
		`<t:Dictionary><t:DictionaryEntry><t:DictionaryKey><t:Type>String</t:Type><t:Value>k</t:Value></t:DictionaryKey><t:DictionaryValue xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></t:DictionaryEntry></t:Dictionary>` +
		`<t:XmlData>` + xml + `</t:XmlData></m:UserConfiguration></m:CreateUserConfiguration>`
	check(t, do(t, s, nil, svcReq(imp(alice), create)), ok1())
	check(t, do(t, s, nil, svcReq(imp(alice), create)), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorItemSave}})
	get := func(n, props string) resp {
		return do(t, s, nil, svcReq(imp(alice), `<m:GetUserConfiguration><m:UserConfigurationName Name="`+n+`"><t:DistinguishedFolderId Id="calendar"/></m:UserConfigurationName><m:UserConfigurationProperties>`+props+`</m:UserConfigurationProperties></m:GetUserConfiguration>`))
	}
	r := get("CategoryList", "All")
	check(t, r, ok1())
	if got := find(t, r.body, "XmlData").trimmed(); got != xml {
		t.Errorf("XmlData = %q, want %q", got, xml)
	}
	if v := find(t, r.body, "DictionaryValue"); len(v.attrs) != 1 || v.attrs[0].Name.Space != nsXSI || v.attrs[0].Name.Local != "nil" || v.attrs[0].Value != "true" {
		t.Errorf("DictionaryValue attrs = %v, want xsi:nil", v.attrs)
	}
	r = get("CategoryList", "Id XmlData")
	check(t, r, ok1())
	if find(t, r.body, "Dictionary") != nil || find(t, r.body, "ItemId") == nil {
		t.Errorf("GetUserConfiguration(Id XmlData) answered the dictionary or no id:\n%s", r.body)
	}
	check(t, get("Missing", "All"), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorItemNotFound}})
	check(t, get("CategoryList", "Everything"), faultOf(ews.ErrorSchemaValidation))
	check(t, do(t, s, nil, svcReq(imp(alice), `<m:CreateUserConfiguration><m:UserConfiguration>`+name("bad name!")+`</m:UserConfiguration></m:CreateUserConfiguration>`)),
		want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidRequest}})
	check(t, do(t, s, nil, svcReq(imp(alice), `<m:UpdateUserConfiguration><m:UserConfiguration>`+name("CategoryList")+`<t:BinaryData>AAE=</t:BinaryData></m:UserConfiguration></m:UpdateUserConfiguration>`)), ok1())
	check(t, do(t, s, nil, svcReq(imp(alice), `<m:UpdateUserConfiguration><m:UserConfiguration>`+name("Missing")+`</m:UserConfiguration></m:UpdateUserConfiguration>`)),
		want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorItemNotFound}})
	del := `<m:DeleteUserConfiguration>` + `<m:UserConfigurationName Name="CategoryList"><t:DistinguishedFolderId Id="calendar"/></m:UserConfigurationName></m:DeleteUserConfiguration>`
	check(t, do(t, s, nil, svcReq(imp(alice), del)), ok1())
	check(t, do(t, s, nil, svcReq(imp(alice), del)), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorItemNotFound}})
}
