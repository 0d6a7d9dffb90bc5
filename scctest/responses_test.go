package scctest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
)

// svcReq is a request by the service account with Exchange2013_SP1.
func svcReq(header, body string) req {
	return req{user: testSvc, pass: testPassword, body: envelope(version("Exchange2013_SP1")+header, body)}
}

func imp(addr string) string { return impersonate("PrimarySmtpAddress", addr) }

// want describes an expected answer.
type want struct {
	status  int
	fault   ews.ResponseCode
	classes []string
	codes   []ews.ResponseCode
	values  map[string]string // fault MessageXml values
}

func check(t *testing.T, got resp, w want) {
	t.Helper()
	if got.status != w.status {
		t.Fatalf("status = %d, want %d\n%s", got.status, w.status, got.body)
	}
	if got.fault != w.fault {
		t.Errorf("fault = %q, want %q\n%s", got.fault, w.fault, got.body)
	}
	if w.fault != "" && got.version != "" {
		t.Errorf("fault carries ServerVersionInfo %q; Exchange faults have none", got.version)
	}
	if w.status == http.StatusOK && got.version == "" {
		t.Errorf("response has no ServerVersionInfo\n%s", got.body)
	}
	if w.classes != nil {
		if diff := cmp.Diff(w.classes, got.classes); diff != "" {
			t.Errorf("ResponseClass mismatch (-want +got):\n%s\n%s", diff, got.body)
		}
	}
	if w.codes != nil {
		if diff := cmp.Diff(w.codes, got.codes); diff != "" {
			t.Errorf("ResponseCode mismatch (-want +got):\n%s", diff)
		}
	}
	for k, v := range w.values {
		if got.messageValues[k] != v {
			t.Errorf("MessageXml %s = %q, want %q", k, got.messageValues[k], v)
		}
	}
}

func ok1() want {
	return want{status: 200, classes: []string{"Success"}, codes: []ews.ResponseCode{ews.NoError}}
}

func faultOf(code ews.ResponseCode) want { return want{status: 500, fault: code} }

// TestResponses is the catalogue of answers: every operation, every error
// and the transport behaviour. Run with -capture DIR to collect the bodies
// for ews-validate (.ci/checks/30-scctest-schema.sh).
func TestResponses(t *testing.T) {
	svcNoGrant := `CONTOSO\svc-none`
	tests := []struct {
		name  string
		opts  []Option
		setup func(t *testing.T, s *Server)
		req   req
		want  want
	}{
		// Transport and authentication.
		{name: "anonymous", req: req{body: envelope(version("Exchange2013_SP1"), getInbox)}, want: want{status: 401}},
		{name: "wrong password", req: req{user: testSvc, pass: "nope", body: envelope("", getInbox)}, want: want{status: 401}},
		{name: "unknown account", req: req{user: `CONTOSO\ghost`, pass: "x", body: envelope("", getInbox)}, want: want{status: 401}},
		{name: "GET", req: req{method: http.MethodGet, user: testSvc, pass: testPassword}, want: want{status: 405}},
		{name: "wrong path", req: req{path: "/EWS/Other.asmx", user: testSvc, pass: testPassword, body: envelope("", getInbox)}, want: want{status: 404}},
		{name: "outside EWS", req: req{path: "/owa/", body: "x"}, want: want{status: 404}},
		{name: "wrong content type", req: req{ctype: "application/json", user: testSvc, pass: testPassword, body: "{}"}, want: want{status: 415}},
		{name: "malformed XML", req: req{user: testSvc, pass: testPassword, body: "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>"}, want: faultOf(ews.ErrorSchemaValidation)},
		{name: "not an envelope", req: req{user: testSvc, pass: testPassword, body: "<Envelope/>"}, want: faultOf(ews.ErrorSchemaValidation)},
		{name: "empty body", req: svcReq("", ""), want: faultOf(ews.ErrorSchemaValidation)},
		{name: "unknown operation", req: svcReq("", "<m:FlyToTheMoon/>"), want: faultOf(ews.ErrorInvalidRequest)},
		{name: "operation in wrong namespace", req: svcReq("", `<t:GetFolder/>`), want: faultOf(ews.ErrorInvalidRequest)},
		{name: "unimplemented operation", req: svcReq(imp(alice), `<m:GetUserOofSettingsRequest><t:Mailbox><t:Address>alice@contoso.example</t:Address></t:Mailbox></m:GetUserOofSettingsRequest>`), want: faultOf(ews.ErrorInvalidOperation)},

		// RequestServerVersion.
		{name: "version Exchange2019 unknown to Exchange", req: req{user: testSvc, pass: testPassword, body: envelope(version("Exchange2019")+imp(alice), getInbox)}, want: faultOf(ews.ErrorInvalidRequest)},
		{name: "version newer than server", req: req{user: testSvc, pass: testPassword, body: envelope(version("V2018_01_08")+imp(alice), getInbox)}, want: faultOf(ews.ErrorInvalidRequest)},
		{name: "version V2018_01_08 on Exchange Online", opts: []Option{WithVersion(ExchangeOnline)}, req: req{user: testSvc, pass: testPassword, body: envelope(version("V2018_01_08")+imp(alice), getInbox)}, want: ok1()},
		{name: "Exchange 2010 refuses newer version", opts: []Option{WithVersion(Exchange2010SP3)}, req: svcReq(imp(alice), getInbox), want: faultOf(ews.ErrorInvalidServerVersion)},
		{name: "Exchange 2010 takes its own", opts: []Option{WithVersion(Exchange2010SP3)}, req: req{user: testSvc, pass: testPassword, body: envelope(version("Exchange2010_SP2")+imp(alice), getInbox)}, want: ok1()},
		{name: "no RequestServerVersion", req: req{user: testSvc, pass: testPassword, body: envelope(imp(alice), getInbox)}, want: ok1()},
		{name: "RequestServerVersion without Version", req: req{user: testSvc, pass: testPassword, body: envelope(`<t:RequestServerVersion/>`+imp(alice), getInbox)}, want: faultOf(ews.ErrorSchemaValidation)},

		// Impersonation.
		{name: "impersonate PrimarySmtpAddress", req: svcReq(imp(alice), getInbox), want: ok1()},
		{name: "impersonate SmtpAddress proxy", req: svcReq(impersonate("SmtpAddress", "alice.alias@contoso.example"), getInbox), want: ok1()},
		{name: "impersonate PrimarySmtpAddress proxy", req: svcReq(imp("alice.alias@contoso.example"), getInbox), want: want{status: 500, fault: ews.ErrorNonExistentMailbox, values: map[string]string{"SmtpAddress": "alice.alias@contoso.example"}}},
		{name: "impersonate PrincipalName", req: svcReq(impersonate("PrincipalName", "alice@ad.contoso.example"), getInbox), want: ok1()},
		{name: "impersonate unknown PrincipalName", req: svcReq(impersonate("PrincipalName", "nobody@ad.contoso.example"), getInbox), want: faultOf(ews.ErrorNonExistentMailbox)},
		{name: "impersonate malformed PrincipalName", req: svcReq(impersonate("PrincipalName", "alice"), getInbox), want: faultOf(ews.ErrorInvalidUserPrincipalName)},
		{name: "impersonate malformed SID", req: svcReq(impersonate("SID", "not-a-sid"), getInbox), want: faultOf(ews.ErrorInvalidSid)},
		{name: "impersonate unknown SID", req: svcReq(impersonate("SID", "S-1-5-21-1-2-3-999"), getInbox), want: faultOf(ews.ErrorNonExistentMailbox)},
		{name: "impersonate unknown address", req: svcReq(imp("nobody@contoso.example"), getInbox), want: want{status: 500, fault: ews.ErrorNonExistentMailbox, values: map[string]string{"SmtpAddress": "nobody@contoso.example"}}},
		{name: "impersonate malformed address", req: svcReq(imp("nobody"), getInbox), want: faultOf(ews.ErrorInvalidSmtpAddress)},
		{name: "impersonate outside scope", req: svcReq(imp(carol), getInbox), want: faultOf(ews.ErrorImpersonateUserDenied)},
		{name: "impersonate without grant",
			setup: func(t *testing.T, s *Server) {
				if err := s.AddServiceAccount(svcNoGrant, "pw", NoImpersonation()); err != nil {
					t.Fatal(err)
				}
			},
			req: req{user: svcNoGrant, pass: "pw", body: envelope(version("Exchange2013_SP1")+imp(alice), getInbox)}, want: faultOf(ews.ErrorImpersonationDenied)},
		{name: "impersonation empty value", req: svcReq(imp("  "), getInbox), want: faultOf(ews.ErrorInvalidExchangeImpersonationHeaderData)},
		{name: "impersonation without ConnectingSID", req: svcReq(`<t:ExchangeImpersonation/>`, getInbox), want: faultOf(ews.ErrorInvalidExchangeImpersonationHeaderData)},
		{name: "no impersonation, no mailbox", req: svcReq("", getInbox), want: want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorMissingEmailAddress}}},
		{name: "mailbox owner logs on", req: req{user: "alice@ad.contoso.example", pass: "alice-pw", body: envelope(version("Exchange2013_SP1"), getInbox)}, want: ok1()},
		{name: "mailbox owner DOMAIN alias", req: req{user: `CONTOSO\alice`, pass: "alice-pw", body: envelope(version("Exchange2013_SP1"), getInbox)}, want: ok1()},
		{name: "owner may not impersonate", req: req{user: "alice@ad.contoso.example", pass: "alice-pw", body: envelope(version("Exchange2013_SP1")+imp(bob), getInbox)}, want: faultOf(ews.ErrorImpersonationDenied)},
		{name: "DistinguishedFolderId with own Mailbox", req: svcReq(imp(alice), `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId><t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>bob@contoso.example</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId><t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>zed@contoso.example</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder>`),
			want: want{status: 200, classes: []string{"Success", "Error", "Error"}, codes: []ews.ResponseCode{ews.NoError, ews.ErrorAccessDenied, ews.ErrorNonExistentMailbox}}},

		// Bearer tokens.
		{name: "app-only without impersonation", req: req{bearer: "app-token", body: envelope(version("Exchange2013_SP1"), getInbox)}, want: faultOf(ews.ErrorInvalidExchangeImpersonationHeaderData)},
		{name: "app-only without anchor", req: req{bearer: "app-token", body: envelope(version("Exchange2013_SP1")+imp(alice), getInbox)}, want: faultOf(ews.ErrorInvalidRequest)},
		{name: "app-only", req: req{bearer: "app-token", headers: map[string]string{"X-AnchorMailbox": alice}, body: envelope(version("Exchange2013_SP1")+imp(alice), getInbox)}, want: ok1()},
		{name: "app-only out of policy scope", req: req{bearer: "scoped-token", headers: map[string]string{"X-AnchorMailbox": bob}, body: envelope(version("Exchange2013_SP1")+imp(bob), getInbox)}, want: faultOf(ews.ErrorImpersonateUserDenied)},
		{name: "delegated with impersonation", req: req{bearer: "user-token", body: envelope(version("Exchange2013_SP1")+imp(alice), getInbox)}, want: faultOf(ews.ErrorInvalidExchangeImpersonationHeaderData)},
		{name: "delegated", req: req{bearer: "user-token", body: envelope(version("Exchange2013_SP1"), getInbox)}, want: ok1()},
		{name: "unknown token", req: req{bearer: "forged", body: envelope(version("Exchange2013_SP1"), getInbox)}, want: want{status: 401}},
		{name: "app blocked", setup: func(t *testing.T, s *Server) { s.BlockApp("app-1") },
			req: req{bearer: "app-token", headers: map[string]string{"X-AnchorMailbox": alice}, body: envelope(version("Exchange2013_SP1")+imp(alice), getInbox)}, want: want{status: 403}},
		{name: "EWS off for tenant", setup: func(t *testing.T, s *Server) { s.SetEWSEnabled(false) }, req: svcReq(imp(alice), getInbox), want: want{status: 403}},
		{name: "EWS off for mailbox", setup: func(t *testing.T, s *Server) {
			if err := s.SetMailboxEWSEnabled(alice, false); err != nil {
				t.Fatal(err)
			}
		}, req: svcReq(imp(alice), getInbox), want: want{status: 403}},

		// Operations: errors that are schema faults or per-message.
		{name: "GetFolder batch mixes classes", req: svcReq(imp(alice), `<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/><t:FolderId Id="garbage"/><t:DistinguishedFolderId Id="archiveinbox"/><t:DistinguishedFolderId Id="calendar"/><t:DistinguishedFolderId Id="contacts"/><t:DistinguishedFolderId Id="tasks"/><t:FolderId Id=""/></m:FolderIds></m:GetFolder>`),
			want: want{status: 200, classes: []string{"Success", "Error", "Error", "Success", "Success", "Success", "Error"}, codes: []ews.ResponseCode{ews.NoError, ews.ErrorInvalidIdMalformed, ews.ErrorFolderNotFound, ews.NoError, ews.NoError, ews.NoError, ews.ErrorInvalidIdEmpty}}},
		{name: "GetFolder invalid DistinguishedFolderId", req: svcReq(imp(alice), `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox1"/></m:FolderIds></m:GetFolder>`), want: faultOf(ews.ErrorSchemaValidation)},
		{name: "GetFolder without shape", req: svcReq(imp(alice), `<m:GetFolder><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>`), want: faultOf(ews.ErrorSchemaValidation)},
		{name: "FindFolder deep", req: svcReq(imp(alice), `<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="root"/></m:ParentFolderIds></m:FindFolder>`), want: ok1()},
		{name: "FindFolder paged", req: svcReq(imp(alice), `<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:IndexedPageFolderView MaxEntriesReturned="3" Offset="2" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="msgfolderroot"/></m:ParentFolderIds></m:FindFolder>`), want: ok1()},
		{name: "FindFolder restriction on an item property", req: svcReq(imp(alice), `<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:Restriction><t:Exists><t:FieldURI FieldURI="item:Subject"/></t:Exists></m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="msgfolderroot"/></m:ParentFolderIds></m:FindFolder>`), want: want{status: 200, codes: []ews.ResponseCode{ews.ErrorUnsupportedPathForQuery}}},
		{name: "FindFolder without Traversal", req: svcReq(imp(alice), `<m:FindFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="root"/></m:ParentFolderIds></m:FindFolder>`), want: faultOf(ews.ErrorSchemaValidation)},
		{name: "FindItem default shape", setup: seedItems(3), req: svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`), want: ok1()},
		{name: "FindItem AllProperties fractional", setup: seedItems(4), req: svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:FractionalPageItemView MaxEntriesReturned="2" Numerator="1" Denominator="2"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`), want: ok1()},
		{name: "FindItem from end", setup: seedItems(4), req: svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="3" Offset="0" BasePoint="End"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`), want: ok1()},
		{name: "FindItem Contains on a number", req: svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:Restriction><t:Contains><t:FieldURI FieldURI="item:Size"/><t:Constant Value="1"/></t:Contains></m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`), want: want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorContainsFilterWrongType}}},
		{name: "FindItem restriction on a recipient list", req: svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:Restriction><t:Exists><t:FieldURI FieldURI="message:ToRecipients"/></t:Exists></m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`), want: want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorUnsupportedPathForQuery}}},
		{name: "FindItem body not allowed", req: svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Body"/></t:AdditionalProperties></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`), want: want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidPropertyRequest}}},
		{name: "FindItem bad paging", req: svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView Offset="-1" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`), want: faultOf(ews.ErrorSchemaValidation)},
		{name: "CreateItem without disposition", req: svcReq(imp(alice), `<m:CreateItem><m:Items><t:Message><t:Subject>x</t:Subject></t:Message></m:Items></m:CreateItem>`), want: want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorMessageDispositionRequired}}},
		{name: "CreateItem of a kind not modelled", req: svcReq(imp(alice), `<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Subject>a</t:Subject></t:Message><t:PostItem><t:Subject>x</t:Subject></t:PostItem></m:Items></m:CreateItem>`), want: want{status: 200, classes: []string{"Success", "Error"}, codes: []ews.ResponseCode{ews.NoError, ews.ErrorInvalidOperation}}},
		{name: "CreateItem send without recipients", req: svcReq(imp(alice), `<m:CreateItem MessageDisposition="SendOnly"><m:Items><t:Message><t:Subject>x</t:Subject></t:Message></m:Items></m:CreateItem>`), want: want{status: 200, codes: []ews.ResponseCode{ews.ErrorInvalidRecipients}}},
		{name: "CreateItem SendAndSaveCopy", req: svcReq(imp(alice), `<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:Message><t:Subject>hello</t:Subject><t:Body BodyType="HTML">&lt;b&gt;hi&lt;/b&gt;</t:Body><t:ToRecipients><t:Mailbox><t:EmailAddress>bob@contoso.example</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message></m:Items></m:CreateItem>`), want: ok1()},
		{name: "DeleteItem without DeleteType", req: svcReq(imp(alice), `<m:DeleteItem><m:ItemIds><t:ItemId Id="x"/></m:ItemIds></m:DeleteItem>`), want: faultOf(ews.ErrorSchemaValidation)},
		{name: "ConvertId dummy", req: svcReq("", `<m:ConvertId DestinationFormat="EntryId"><m:SourceIds><t:AlternateId Id="DUMMY" Format="EwsId" Mailbox="DUMMY"/></m:SourceIds></m:ConvertId>`), want: want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidSmtpAddress}}},
		{name: "ConvertId errors", req: svcReq("", `<m:ConvertId DestinationFormat="HexEntryId"><m:SourceIds><t:AlternateId Id="DUMMY" Format="EwsId" Mailbox="alice@contoso.example"/><t:AlternateId Id="x" Format="EwsId" Mailbox="zed@contoso.example"/></m:SourceIds></m:ConvertId>`), want: want{status: 200, classes: []string{"Error", "Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidIdMalformed, ews.ErrorInvalidIdMalformed}}},
		{name: "ResolveNames exact", req: svcReq("", `<m:ResolveNames ReturnFullContactData="true" SearchScope="ActiveDirectory"><m:UnresolvedEntry>SMTP:bob@contoso.example</m:UnresolvedEntry></m:ResolveNames>`), want: ok1()},
		{name: "ResolveNames ambiguous", setup: func(t *testing.T, s *Server) {
			if _, err := s.AddMailbox(Mailbox{PrimarySMTP: "carl@contoso.example", DisplayName: "Carl Carter"}); err != nil {
				t.Fatal(err)
			}
		}, req: svcReq("", `<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>car</m:UnresolvedEntry></m:ResolveNames>`), want: want{status: 200, classes: []string{"Warning"}, codes: []ews.ResponseCode{ews.ErrorNameResolutionMultipleResults}}},
		{name: "ResolveNames none", req: svcReq("", `<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>zzz</m:UnresolvedEntry></m:ResolveNames>`), want: want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorNameResolutionNoResults}}},
		{name: "ResolveNames without ReturnFullContactData", req: svcReq("", `<m:ResolveNames><m:UnresolvedEntry>bob</m:UnresolvedEntry></m:ResolveNames>`), want: faultOf(ews.ErrorSchemaValidation)},

		// Injected faults.
		{name: "ServerBusy", setup: func(t *testing.T, s *Server) { s.InjectNext(1, ServerBusy(5*time.Minute)) }, req: svcReq(imp(alice), getInbox),
			want: want{status: 500, fault: ews.ErrorServerBusy, values: map[string]string{"BackOffMilliseconds": "300000"}}},
		{name: "HTTP 503", setup: func(t *testing.T, s *Server) { s.InjectNext(1, HTTPStatus(503)) }, req: svcReq(imp(alice), getInbox), want: want{status: 503}},
		{name: "SOAP fault injected", setup: func(t *testing.T, s *Server) { s.InjectNext(1, SOAPFault(ews.ErrorMailboxMoveInProgress, "")) }, req: svcReq(imp(alice), getInbox), want: faultOf(ews.ErrorMailboxMoveInProgress)},
		{name: "message errors injected", setup: func(t *testing.T, s *Server) { s.InjectNext(1, MessageError(ews.ErrorMailboxStoreUnavailable)) },
			req:  svcReq(imp(alice), `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/><t:DistinguishedFolderId Id="drafts"/></m:FolderIds></m:GetFolder>`),
			want: want{status: 200, classes: []string{"Error", "Error"}, codes: []ews.ResponseCode{ews.ErrorMailboxStoreUnavailable, ews.ErrorMailboxStoreUnavailable}}},
		{name: "reactor for one mailbox", setup: func(t *testing.T, s *Server) {
			s.React("GetFolder", "alice.alias@contoso.example", func(Call) Reaction { return Reaction{Fault: ServerBusy(0)} })
		}, req: svcReq(imp(alice), getInbox), want: faultOf(ews.ErrorServerBusy)},
		{name: "reactor not matching", setup: func(t *testing.T, s *Server) {
			s.React("GetFolder", bob, func(Call) Reaction { return Reaction{Fault: ServerBusy(0)} })
		}, req: svcReq(imp(alice), getInbox), want: ok1()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, tt.opts...)
			if err := s.AddToken("app-token", Token{Kind: AppOnly, AppID: "app-1"}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddToken("scoped-token", Token{Kind: AppOnly, AppID: "app-2", Scope: []string{alice}}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddToken("user-token", Token{Kind: Delegated, AppID: "app-3", User: alice}); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, s)
			}
			check(t, do(t, s, nil, tt.req), tt.want)
		})
	}
}

// seedItems stores n messages in alice's inbox.
func seedItems(n int) func(t *testing.T, s *Server) {
	return func(t *testing.T, s *Server) {
		t.Helper()
		base := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
		for i := range n {
			m := Message{Subject: fmt.Sprintf("message %d", i), Body: "body", From: bob, To: []string{alice}, Cc: []string{"ext@example.org"}, Received: base.Add(time.Duration(i) * time.Hour), IsRead: i%2 == 0}
			if _, err := s.AddItem(alice, "inbox", m); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestUnauthorizedChallenges(t *testing.T) {
	s := newTestServer(t, WithAuth(AuthBearer, AuthNTLM, AuthBasic))
	r := do(t, s, nil, req{body: envelope("", getInbox)})
	got := r.header.Values("WWW-Authenticate")
	host := strings.Split(strings.TrimPrefix(s.URL(), "http://"), ":")[0]
	wantList := []string{bearerChallenge, "Negotiate", "NTLM", `Basic realm="` + host + `"`}
	if diff := cmp.Diff(wantList, got); diff != "" {
		t.Errorf("WWW-Authenticate (-want +got):\n%s", diff)
	}
	r = do(t, s, nil, req{bearer: "nope", body: envelope("", getInbox)})
	if v := r.header.Get("WWW-Authenticate"); !strings.Contains(v, `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate for a bad token = %q, want error=\"invalid_token\"", v)
	}
}

// TestInjectedMessageErrorsEveryOperation injects per-message errors into
// every operation, so that the captured set (-capture) holds the error shape
// of each operation's response message, including the codes only injection
// produces (ErrorInternalServerError, ErrorTimeoutExpired).
func TestInjectedMessageErrorsEveryOperation(t *testing.T) {
	bodies := map[string]string{
		"GetFolder":           getInbox,
		"FindFolder":          `<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="root"/></m:ParentFolderIds></m:FindFolder>`,
		"FindItem":            `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`,
		"GetItem":             `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="AAMkx"/></m:ItemIds></m:GetItem>`,
		"CreateItem":          `<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Subject>x</t:Subject></t:Message></m:Items></m:CreateItem>`,
		"DeleteItem":          `<m:DeleteItem DeleteType="HardDelete"><m:ItemIds><t:ItemId Id="AAMkx"/></m:ItemIds></m:DeleteItem>`,
		"ConvertId":           `<m:ConvertId DestinationFormat="EwsId"><m:SourceIds><t:AlternateId Id="AAMkx" Format="EwsId" Mailbox="alice@contoso.example"/></m:SourceIds></m:ConvertId>`,
		"ResolveNames":        `<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>bob</m:UnresolvedEntry></m:ResolveNames>`,
		"SyncFolderItems":     `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>`,
		"SyncFolderHierarchy": `<m:SyncFolderHierarchy><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape></m:SyncFolderHierarchy>`,
	}
	codes := []ews.ResponseCode{ews.ErrorInternalServerError, ews.ErrorTimeoutExpired, ews.ErrorMailboxMoveInProgress}
	for op, body := range bodies {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t)
			for _, code := range codes {
				s.InjectNext(1, MessageError(code))
				r := do(t, s, nil, svcReq(imp(alice), body))
				check(t, r, want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{code}})
				if !strings.Contains(string(r.body), "<m:"+op+"ResponseMessage ") && !strings.Contains(string(r.body), "<m:"+op+"ResponseMessage>") {
					t.Errorf("%s with injected %s: body has no m:%sResponseMessage\n%s", op, code, op, r.body)
				}
			}
		})
	}
}
