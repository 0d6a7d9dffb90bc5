package impersonation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// diagnoseRetry is the retry policy of the diagnosis's authenticated
// requests: transient failures (throttling, a dropped connection) are
// repeated a little; a 401 never is (ews does not repeat it).
func diagnoseRetry() ews.RetryPolicy {
	return ews.RetryPolicy{MaxAttempts: 3, MaxWait: 10 * time.Second, BaseDelay: 200 * time.Millisecond, MaxDelay: 2 * time.Second}
}

// baseEWSOptions are the transport options shared by the anonymous and the
// authenticated client.
func (g *diagnoser) baseEWSOptions() []ews.Option {
	o := []ews.Option{ews.WithHTTPClient(g.httpClient())}
	if _, insecure := g.trust(); insecure {
		o = append(o, ews.WithInsecureSkipVerify())
	}
	return o
}

// msgFolderRoot is the request of the unimpersonated probes.
func msgFolderRoot() *ews.GetFolderRequest {
	return &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderMsgFolderRoot)}}
}

// notEWSFix says where to find the right EWS URL.
func (g *diagnoser) notEWSFix() string {
	return fmt.Sprintf("Check the EWS URL %s: it must be the EWS virtual directory, https://<server>/EWS/Exchange.asmx, as Get-WebServicesVirtualDirectory | Format-List InternalUrl,ExternalUrl shows on-premises (Exchange Online: https://outlook.office365.com/EWS/Exchange.asmx); make sure no reverse proxy, load balancer or pre-authentication portal answers in its place.", g.d.Endpoint)
}

// stepEndpoint sends a SOAP request without credentials: EWS answers 401
// with its schemes.
func (g *diagnoser) stepEndpoint(ctx context.Context) Step {
	opts := append(g.baseEWSOptions(), ews.WithRetryPolicy(ews.NoRetries()))
	if g.cfg.AllowInsecureHTTP {
		opts = append(opts, ews.WithInsecureHTTP())
	}
	anon, err := ews.NewClient(g.cfg.EWSURL, opts...)
	if err != nil {
		return stepFail("cannot build the EWS client: "+err.Error(), "Correct the EWS URL.")
	}
	defer anon.CloseIdleConnections()
	_, err = anon.GetFolder(ctx, msgFolderRoot())
	var (
		ae *ews.AuthError
		he *ews.HTTPError
		fe *ews.FaultError
		re *ews.ResponseError
	)
	switch {
	case errors.As(err, &ae):
		g.offered = ae.Offered
		if len(ae.Offered) == 0 {
			return stepWarn("EWS answered HTTP 401 to an unauthenticated SOAP request but named no authentication scheme (no WWW-Authenticate header)",
				"Check the authentication settings of the EWS virtual directory (Get-WebServicesVirtualDirectory | Format-List *Authentication) and any proxy in front of it that may strip WWW-Authenticate.")
		}
		return stepPass("EWS answered an unauthenticated SOAP request with HTTP 401, as it should, offering " + strings.Join(ae.Offered, ", "))
	case errors.As(err, &he):
		return g.notEWS(he)
	case err == nil, errors.As(err, &fe), errors.As(err, &re):
		return stepWarn("EWS answered a SOAP request without asking for authentication",
			"Check the authentication settings of the EWS virtual directory: anonymous access must be off (Get-WebServicesVirtualDirectory | Format-List *Authentication).")
	}
	return g.failFromError(err, "the unauthenticated probe")
}

// notEWS explains an HTTP answer that is not EWS's.
func (g *diagnoser) notEWS(he *ews.HTTPError) Step {
	ct := he.ContentType
	if ct == "" {
		ct = "no content type"
	}
	body := ""
	if he.Excerpt != "" {
		body = fmt.Sprintf(", starting %q", he.Excerpt)
	}
	switch {
	case he.StatusCode >= 300 && he.StatusCode < 400:
		loc := he.Location
		if loc == "" {
			loc = "(no Location)"
		}
		return stepFail(fmt.Sprintf("this is not an EWS endpoint: %s answers HTTP %d, a redirect to %s", g.d.Endpoint, he.StatusCode, loc), g.notEWSFix())
	case he.StatusCode == http.StatusNotFound:
		return stepFail(fmt.Sprintf("this is not an EWS endpoint: %s answers HTTP 404 Not Found", g.d.Endpoint), g.notEWSFix())
	case he.StatusCode == http.StatusForbidden:
		return stepFail(fmt.Sprintf("%s refused an unauthenticated request with HTTP 403 Forbidden", g.d.Endpoint),
			"Something refuses this machine before authentication: IIS IP address restrictions, a required client certificate (SSL settings of the EWS virtual directory), or a proxy or firewall policy. "+g.policyFix(false))
	case he.StatusCode == http.StatusServiceUnavailable || he.StatusCode == http.StatusTooManyRequests:
		return stepFail(fmt.Sprintf("%s answers HTTP %d: EWS is overloaded or its application pool is stopped", g.d.Endpoint, he.StatusCode),
			"Check that the MSExchangeServicesAppPool application pool runs (IIS Manager, or Get-WebAppPoolState MSExchangeServicesAppPool) and the server's load; run the diagnosis again later.")
	case he.StatusCode >= 500:
		return stepFail(fmt.Sprintf("%s answers HTTP %d with %s%s instead of a SOAP answer", g.d.Endpoint, he.StatusCode, ct, body),
			"The EWS application on the server fails: check the Exchange server's Application event log and that the MSExchangeServicesAppPool application pool runs, then run the diagnosis again.")
	}
	return stepFail(fmt.Sprintf("this is not an EWS endpoint: %s answers HTTP %d with %s%s, not a SOAP answer (%s)", g.d.Endpoint, he.StatusCode, ct, body, he.Reason), g.notEWSFix())
}

// stepAuthSchemes compares the configured method with the offer.
func (g *diagnoser) stepAuthSchemes(context.Context) Step {
	has := func(names ...string) bool {
		for _, o := range g.offered {
			for _, n := range names {
				if strings.EqualFold(o, n) {
					return true
				}
			}
		}
		return false
	}
	offered := strings.Join(g.offered, ", ")
	vdir := `Set-WebServicesVirtualDirectory -Identity "<server>\EWS (Default Web Site)"`
	if g.h.appOnly {
		g.d.AuthMethod = "Bearer"
		if len(g.offered) > 0 && !has("Bearer") {
			return stepWarn("configured OAuth bearer tokens, but the server offers only "+offered,
				"App-only OAuth for EWS exists only in Exchange Online: use https://outlook.office365.com/EWS/Exchange.asmx, or for an on-premises server choose Microsoft Exchange Impersonation with a service account.")
		}
		return stepPass("configured OAuth bearer tokens; the server offers " + offered)
	}
	if len(g.offered) == 0 {
		if g.method == org.AuthBasic {
			g.d.AuthMethod = "Basic"
		} else {
			g.method, g.d.AuthMethod = org.AuthNTLM, "NTLM"
		}
		return stepPass("the server named no scheme; trying " + g.d.AuthMethod)
	}
	ntlm := has("NTLM", "Negotiate")
	basic := has("Basic")
	switch g.method {
	case org.AuthBasic:
		g.d.AuthMethod = "Basic"
		if !basic {
			fix := "Choose NTLM as the Authentication Method"
			if !ntlm {
				fix = "Choose an authentication method the server offers"
			}
			return stepFail(fmt.Sprintf("configured Basic, but the server offers only %s", offered),
				fix+", or enable Basic authentication on the EWS virtual directory ("+vdir+" -BasicAuthentication $true; then iisreset).")
		}
		return stepPass("configured Basic; the server offers " + offered)
	case org.AuthNTLM:
		g.d.AuthMethod = "NTLM"
		if !ntlm {
			return stepFail(fmt.Sprintf("configured NTLM, but the server offers only %s", offered),
				"Choose Basic as the Authentication Method (over https:// only), or enable Windows authentication on the EWS virtual directory ("+vdir+" -WindowsAuthentication $true; then iisreset).")
		}
		return stepPass("configured NTLM; the server offers " + offered)
	}
	// Negotiate automatically, as Check does: NTLM first, Basic only over
	// https when it is the only offer.
	switch {
	case ntlm:
		g.method, g.d.AuthMethod = org.AuthNTLM, "NTLM"
	case basic && strings.EqualFold(g.u.Scheme, "https"):
		g.method, g.d.AuthMethod = org.AuthBasic, "Basic"
	case basic:
		return stepFail(fmt.Sprintf("the server offers only %s, and scc refuses Basic over http:// (the password would cross the network in clear text)", offered),
			authSchemeFix("NTLM", g.offered, false, false))
	default:
		return stepFail(fmt.Sprintf("the server offers %s, none of which a service account with a password can use here", offered),
			authSchemeFix("NTLM", g.offered, strings.EqualFold(g.u.Scheme, "https"), false))
	}
	return stepPass(fmt.Sprintf("negotiated %s; the server offers %s", g.d.AuthMethod, offered))
}

// stepLogon sends one authenticated request without impersonation.
func (g *diagnoser) stepLogon(ctx context.Context) Step {
	ao, err := g.s.authOptions(g.cfg, g.httpClient()) // resolves, dials and trusts as the steps do
	if err != nil {
		return stepFail("cannot prepare the app-only token requests: "+errText(err), tokenFix)
	}
	c, err := newEWSClient(g.cfg, g.method, append(g.baseEWSOptions(), ao...))
	if err != nil {
		return stepFail("cannot build the EWS client: "+err.Error(), "Correct the email configuration.")
	}
	g.client = c.With(ews.UseRetryPolicy(diagnoseRetry()))
	resp, err := g.client.GetFolder(ctx, msgFolderRoot())
	if resp != nil && resp.ServerVersion != nil {
		v := *resp.ServerVersion
		g.version = &v
	}
	who := fmt.Sprintf("%s (%s)", g.h.serviceAccount, g.d.AuthMethod)
	var (
		ae *ews.AuthError
		he *ews.HTTPError
		fe *ews.FaultError
		re *ews.ResponseError
	)
	switch {
	case err == nil:
		if len(resp.Results) > 0 && errors.As(resp.Results[0].Err, &re) {
			return stepPass(fmt.Sprintf("Exchange accepted the logon of %s; for the account's own mailbox it answered %s, which does not matter for impersonation", who, re.Code))
		}
		return stepPass(fmt.Sprintf("Exchange accepted the logon of %s", who))
	case errors.As(err, &ae):
		diag := ""
		if ae.Diagnostics != "" {
			diag = " (x-ms-diagnostics: " + ae.Diagnostics + ")"
		}
		if !credentialsTried(ae) {
			// Nothing the server checks was sent: no failed logon, and
			// the fix is the method or the server's settings.
			detail := fmt.Sprintf("no credentials were sent for %s, and Exchange answered HTTP 401 offering %s%s; no failed logon was counted", g.h.serviceAccount, offeredText(ae.Offered), diag)
			if ae.Scheme != "" {
				detail = fmt.Sprintf("Exchange does not accept the %s logon of %s: it answered HTTP 401 offering %s%s, so no credentials were checked and no failed logon was counted", ae.Scheme, g.h.serviceAccount, offeredText(ae.Offered), diag)
			}
			st := stepFail(detail, authSchemeFix(ae.Scheme, ae.Offered, strings.EqualFold(g.u.Scheme, "https"), g.h.appOnly))
			if ae.Scheme == "" && g.h.appOnly {
				st.Fix = "Exchange Online app-only access needs an access token: the program's own token source gave none; let the diagnosis request the tokens itself with the configuration's Tenant ID, Client ID and secret or certificate (client-credentials flow with scope https://outlook.office365.com/.default), or fix that token source."
			}
			return st
		}
		detail := fmt.Sprintf("credentials rejected: Exchange answered HTTP 401 to the %s logon of %s%s", ae.Scheme, g.h.serviceAccount, diag)
		return stepFail(detail+"; nothing more was sent, so this diagnosis cost the account one failed logon", remediation(StatusAuthFailed, "", g.h))
	case errors.As(err, &he) && he.StatusCode == http.StatusForbidden:
		st := stepFail(fmt.Sprintf("Exchange accepted the logon of %s but refused EWS with HTTP 403: EWS is disabled or blocked by policy for the service account or the organization", who), g.policyFix(true))
		return st
	case errors.As(err, &fe) && !fe.Transient() && fe.Code != ews.ErrorServerBusy:
		// Any non-transient SOAP fault proves the logon, as in Check's
		// preflight (app-only tokens must impersonate, for example).
		return stepPass(fmt.Sprintf("Exchange accepted the logon of %s; without impersonation it answered %s, which does not matter here", who, fe.Code))
	}
	return g.failFromError(err, "the logon")
}

// stepServerVersion names the release that answered.
func (g *diagnoser) stepServerVersion(context.Context) Step {
	if g.version == nil {
		return stepPass("Exchange sent no ServerVersionInfo with the logon's answer; the release is unknown so far")
	}
	return g.versionStep(*g.version)
}

// lateVersion records a ServerVersionInfo that arrived only after the
// version step (app-only tokens must impersonate to get an answer), and
// rewrites that step.
func (g *diagnoser) lateVersion(v *ews.ServerVersionInfo) {
	if g.version != nil || v == nil {
		return
	}
	g.version = v
	for i := range g.d.Steps {
		if s := &g.d.Steps[i]; s.Name == StepServerVersion && s.Status == StepPassed {
			st := g.versionStep(*v)
			s.Status, s.Detail, s.Fix = st.Status, st.Detail+" (reported with the impersonated answer)", st.Fix
		}
	}
}

// versionStep judges the release.
func (g *diagnoser) versionStep(v ews.ServerVersionInfo) Step {
	g.d.ServerVersion = v.String()
	product, note := exchangeRelease(v)
	g.d.Product = product
	detail := fmt.Sprintf("%s, build %s", product, v.String())
	if product == "Exchange Online" && !g.h.exchangeOnline {
		g.h.exchangeOnline = true
		g.d.ExchangeOnline = true
		now := g.s.now()
		if !now.Before(exoEWSEndDate) {
			return stepFail(detail+": EWS in Exchange Online was switched off for good on 1 April 2027", "Move the sync to Microsoft Graph.")
		}
		d, f := exoRetirementWarning(now, g.cfg.ClientID, g.anchor)
		return stepWarn(detail+"; "+d, f)
	}
	if note != "" {
		return stepWarn(detail+": "+note, "Upgrade to Exchange Server Subscription Edition (SE), which gets security updates; EWS and Exchange Impersonation keep working there.")
	}
	return stepPass(detail)
}

// exchangeRelease names the release of a ServerVersionInfo and says when it
// is out of support.
func exchangeRelease(v ews.ServerVersionInfo) (product, note string) {
	switch {
	case v.MajorVersion == 15 && v.MinorVersion == 2 && v.MajorBuildNumber >= 2562:
		return "Exchange Server Subscription Edition", ""
	case v.MajorVersion == 15 && v.MinorVersion == 2:
		return "Exchange 2019", "out of support since 14 October 2025"
	case v.MajorVersion == 15 && v.MinorVersion == 1:
		return "Exchange 2016", "out of support since 14 October 2025"
	case v.MajorVersion == 15 && v.MinorVersion == 0:
		return "Exchange 2013", "out of support since 11 April 2023"
	case v.MajorVersion == 14:
		return "Exchange 2010", "out of support since 13 October 2020"
	case v.MajorVersion == 8:
		return "Exchange 2007", "out of support since 11 April 2017"
	}
	return v.Product(), ""
}

// impersonating returns the authenticated client bound to the mailbox.
func (g *diagnoser) impersonating() *ews.Client {
	if g.view == nil {
		opts := []ews.CallOption{ews.Impersonate(g.sid)}
		if g.anchor != "" {
			opts = append(opts, ews.AnchorMailbox(g.anchor))
		}
		g.view = g.client.With(opts...)
	}
	return g.view
}

// stepImpersonation gets the Inbox as the mailbox.
func (g *diagnoser) stepImpersonation(ctx context.Context) Step {
	resp, err := g.impersonating().GetFolder(ctx, &ews.GetFolderRequest{
		FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, Shape: ews.ShapeDefault})
	if err == nil && len(resp.Results) > 0 {
		err = resp.Results[0].Err
		if err == nil {
			g.unread = resp.Results[0].Folder.UnreadCount
			g.haveRead = true
		}
	}
	if resp != nil && resp.ServerVersion != nil {
		v := *resp.ServerVersion
		g.lateVersion(&v)
	}
	if err == nil {
		how := g.sid.Kind.String()
		if g.anchor != "" {
			how += " and X-AnchorMailbox"
		}
		return stepPass(fmt.Sprintf("%s may impersonate %s (ExchangeImpersonation by %s)", g.h.serviceAccount, g.mailbox, how))
	}
	o := classify(err)
	if o.status == StatusNoMailbox && o.code == ews.ErrorNonExistentMailbox && g.sid.Kind == ews.KindPrimarySmtpAddress {
		st := g.failOutcome(o, err)
		alt := g.client.With(ews.Impersonate(ews.SmtpAddress(g.sid.Value)), ews.AnchorMailbox(g.sid.Value))
		if _, aerr := alt.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox)); aerr == nil {
			st.Detail = strings.TrimSuffix(st.Detail, ".") + fmt.Sprintf("; %s is a secondary (proxy) address of a mailbox, not its primary SMTP address", g.sid.Value)
			st.Fix = fmt.Sprintf("Use the mailbox's primary SMTP address instead of %s (Get-Recipient %s | Format-List PrimarySmtpAddress), in this diagnosis and in the user list, or impersonate by UPN or SID.", g.sid.Value, psQuote(g.sid.Value))
		}
		return st
	}
	return g.failOutcome(o, err)
}

// stepInbox reads the Inbox's items.
func (g *diagnoser) stepInbox(ctx context.Context) Step {
	resp, err := g.impersonating().FindItem(ctx, &ews.FindItemRequest{
		ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)},
		Page:            &ews.PageView{MaxEntries: 1},
	})
	if err == nil && len(resp.Results) > 0 {
		err = resp.Results[0].Err
	}
	if err == nil {
		n := 0
		if len(resp.Results) > 0 {
			n = resp.Results[0].Page.TotalItemsInView
		}
		noun := "items"
		if n == 1 {
			noun = "item"
		}
		detail := fmt.Sprintf("the Inbox of %s holds %d %s", g.mailbox, n, noun)
		if g.haveRead {
			detail += fmt.Sprintf(" (%d unread)", g.unread)
		}
		return stepPass(detail)
	}
	o := classify(err)
	st := g.failOutcome(o, err)
	if o.code == ews.ErrorAccessDenied {
		st.Fix = fmt.Sprintf("The service account may impersonate %s but cannot read its Inbox: look for a deny permission (Get-MailboxFolderPermission %s:\\Inbox) or an application access policy that limits the app.", g.mailbox, psQuote(g.mailbox))
	}
	return st
}

// stepWriteTest creates a test message in Drafts and deletes it.
func (g *diagnoser) stepWriteTest(ctx context.Context) Step {
	if !g.s.writeTest {
		return Step{Status: StepSkipped, Detail: "not requested (WithWriteTest): it would create a test message in Drafts and delete it"}
	}
	view := g.impersonating()
	subject, req := testMessage("Test message of the scc Service Account Access diagnosis; it is deleted right away.")
	resp, err := view.CreateItem(ctx, req)
	if err == nil && len(resp.Results) == 0 {
		err = errors.New("impersonation: CreateItem answered without a result")
	}
	if err == nil {
		err = resp.Results[0].Err
	}

	// A created message is deleted even when ctx has ended.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	leftFix := fmt.Sprintf("Delete the message %q from the Drafts folder of %s (it is harmless), then check that the service account may delete items there.", subject, g.mailbox)

	if err != nil {
		var tr *ews.TransportError
		if errors.As(err, &tr) && tr.MaybeSent || ctx.Err() != nil {
			if left, lerr := g.deleteBySubject(cctx, view, subject); lerr != nil || left {
				return stepFail("creating the test message failed and it may exist: "+err.Error(), leftFix)
			}
		}
		o := classify(err)
		st := g.failOutcome(o, err)
		st.Detail = "cannot create a test message in Drafts: " + st.Detail
		if o.status == StatusError {
			st.Fix = "The service account can read this mailbox but not create items in it. On-premises, ApplicationImpersonation gives full access: check for a deny permission on the mailbox or its Drafts folder (Get-MailboxFolderPermission <mailbox>:\\Drafts) and retention or litigation settings. " + st.Fix
		}
		return st
	}
	id := resp.Results[0].ItemID
	dresp, derr := view.DeleteItem(cctx, &ews.DeleteItemRequest{ItemIDs: []ews.ItemID{id}, DeleteType: ews.HardDelete})
	if derr == nil && len(dresp.Results) > 0 {
		derr = dresp.Results[0].Err
	}
	if derr != nil {
		st := stepFail(fmt.Sprintf("created a test message in Drafts, but deleting it failed, so it is left behind (subject %q): %s", subject, errText(derr)), leftFix)
		st.Code = classify(derr).code
		return st
	}
	return stepPass(fmt.Sprintf("created a test message in the Drafts of %s and hard-deleted it", g.mailbox))
}

// deleteBySubject deletes the Drafts messages with subject; it reports
// whether one could not be deleted.
func (g *diagnoser) deleteBySubject(ctx context.Context, view *ews.Client, subject string) (left bool, err error) {
	var ids []ews.ItemID
	for it, err := range view.Items(ctx, &ews.FindItemRequest{
		ParentFolderIDs:      []ews.FolderID{ews.DistinguishedFolder(ews.FolderDrafts)},
		AdditionalProperties: []ews.FieldURI{ews.FieldItemSubject},
	}) {
		if err != nil {
			return false, err
		}
		if it.Subject == subject {
			ids = append(ids, it.ItemID)
		}
	}
	for _, id := range ids {
		if err := view.DeleteItemByID(ctx, id, ews.HardDelete); err != nil {
			return true, nil
		}
	}
	return false, nil
}

// failOutcome turns a classified error into a failed step with the shared
// remediation texts.
func (g *diagnoser) failOutcome(o outcome, err error) Step {
	st := stepFail(errText(err), "")
	st.Code = o.code
	if o.code != "" {
		st.Detail = fmt.Sprintf("%s: %s", o.code, o.message)
	}
	switch o.status {
	case StatusBlockedByPolicy:
		st.Detail = "Exchange refused EWS with HTTP 403 for this mailbox: EWS is disabled or blocked by policy"
		st.Fix = g.policyFix(false)
	case StatusNetworkError:
		st.Fix = networkRemediation(o.net, g.host, g.port)
	case StatusThrottled:
		h := g.h
		h.backoff = o.backoff
		st.Fix = remediation(o.status, o.code, h)
	default:
		h := g.h
		h.identityKind = g.sid.Kind.String()
		st.Fix = remediation(o.status, o.code, h)
	}
	if st.Fix == "" {
		st.Fix = "See the message; run the diagnosis again, and if it persists check the Exchange server's event log."
	}
	return st
}

// failFromError classifies err from a step without a more specific
// reading.
func (g *diagnoser) failFromError(err error, what string) Step {
	if err == nil {
		return stepFail(what+" failed without an error", "Run the diagnosis again.")
	}
	var te *ews.TokenError
	if errors.As(err, &te) {
		return stepFail("could not get an access token for "+g.h.serviceAccount+": "+errText(te), tokenFix)
	}
	return g.failOutcome(classify(err), err)
}

// errText is an error's message without the package prefix.
func errText(err error) string {
	return strings.TrimPrefix(err.Error(), "ews: ")
}

// policyFix says how to allow EWS after an HTTP 403. account is true when
// the service account's own request was refused (the organization or the
// account), false for the mailbox.
func (g *diagnoser) policyFix(account bool) string {
	if g.h.exchangeOnline {
		return exoBlockedFix(g.h.appID, g.anchor)
	}
	mbx := g.anchor
	if mbx == "" {
		mbx = "<mailbox>"
	}
	who := "for the mailbox: Set-CASMailbox " + psQuote(mbx) + " -EwsEnabled $true"
	if account {
		who = "for the organization and the service account: Set-OrganizationConfig -EwsEnabled $true (if Get-OrganizationConfig shows EwsEnabled False), and Set-CASMailbox <service account> -EwsEnabled $true if it has a mailbox"
	}
	return "Allow EWS " + who + ". Then review the organization's EWS access policy (Get-OrganizationConfig | Format-List Ews*: EwsApplicationAccessPolicy, EwsAllowList, EwsBlockList) and the mailbox's (Get-CASMailbox " + psQuote(mbx) + " | Format-List Ews*)."
}
