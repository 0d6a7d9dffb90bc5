package impersonation

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// Microsoft guidance the remediations below rely on (checked November 2026):
//
//   - ApplicationImpersonation: blocked for new assignments in Exchange Online
//     from 2024 and removed with its feature set in February 2025 (Exchange
//     Team blog "Retirement of RBAC Application Impersonation in Exchange
//     Online", MC718754). Replacement: an Entra app registration with the
//     full_access_as_app application permission, narrowed by RBAC for
//     Applications or an application access policy.
//   - EWS in Exchange Online (MC1227454, Exchange Team blog on
//     EWSAllowedAppIDs, Set-OrganizationConfig -EwsAllowedAppIDs): from 1
//     October 2026 tenants whose organization-level EwsEnabled is not set
//     are switched to False (all EWS blocked); with EwsEnabled $true only the
//     application IDs in EwsAllowedAppIDs may use EWS; the list is written
//     whole and changes take up to 24 hours. Since April 2025 EWS is allowed
//     only when both the organization and the mailbox (Set-CASMailbox
//     -EwsEnabled) allow it. EWS in Exchange Online is switched off for good
//     on 1 April 2027; Exchange Server on-premises is not affected.
//   - On-premises, EWS access is controlled with Set-CASMailbox -EwsEnabled
//     and Set-OrganizationConfig -EwsApplicationAccessPolicy / -EwsAllowList
//     / -EwsBlockList (user-agent based).

// hints carries what a remediation text may mention. It never holds a
// secret.
type hints struct {
	serviceAccount string // logon, or "application <client id>"
	appID          string // the application (client) id of app-only access
	endpoint       *url.URL
	exchangeOnline bool
	appOnly        bool // Exchange Online app-only OAuth
	address        string
	identityKind   string
	attempts       int
	backoff        time.Duration
	budget         time.Duration
}

func (h hints) account() string {
	if h.serviceAccount == "" {
		return "<service account>"
	}
	return h.serviceAccount
}

const (
	ewsOnlineRetirement = "EWS in Exchange Online is switched off for good on 1 April 2027; plan the move to Microsoft Graph."
	appOnlyPointer      = "Use app-only OAuth instead: register an application in Microsoft Entra ID, grant it the full_access_as_app application permission of Office 365 Exchange Online with admin consent, limit it to the synced mailboxes with RBAC for Applications or an application access policy, and configure the Exchange Online app-only access type (client id, tenant, secret or certificate)."
)

// tokenFix is what to do when no access token could be had from Microsoft
// Entra ID for app-only access; Check and Diagnose both give it.
const tokenFix = "Check the application's Tenant ID, Client ID and client secret or certificate in Microsoft Entra ID (App registrations), that the secret or certificate has not expired, and that this machine reaches the authority (login.microsoftonline.com by default); the token is requested for https://outlook.office365.com/.default with the client-credentials flow."

// remediation is the text for a problem of status st with code.
func remediation(st Status, code ews.ResponseCode, h hints) string {
	switch st {
	case StatusOK:
		return ""
	case StatusImpersonationDenied:
		if h.appOnly {
			return "The application may not impersonate anyone: grant it the full_access_as_app application permission of Office 365 Exchange Online in Microsoft Entra ID and give admin consent (tokens carry it in the roles claim); then check again. " + ewsOnlineRetirement
		}
		if h.exchangeOnline {
			return "Exchange Online removed the ApplicationImpersonation role in February 2025, so a service account logon with a password cannot impersonate there. " + appOnlyPointer + " " + ewsOnlineRetirement
		}
		return fmt.Sprintf(`Give the service account the ApplicationImpersonation role. In the Exchange Management Shell: New-ManagementRoleAssignment -Name "scc-impersonation" -Role ApplicationImpersonation -User %s (add -CustomRecipientWriteScope <scope> to limit it to the synced mailboxes); then check again.`, psQuote(h.account()))
	case StatusOutOfScope:
		if h.appOnly || h.exchangeOnline {
			return "The application's access is limited and this mailbox is outside it. Check with Test-ApplicationAccessPolicy -Identity <mailbox> -AppId <application id> and Get-ManagementRoleAssignment -RoleAssigneeType ServicePrincipal; add the mailbox to the policy's mail-enabled security group or to the management scope of the RBAC for Applications assignment."
		}
		return "The mailbox is outside the management scope of the service account's ApplicationImpersonation role assignment. Find the scope with Get-ManagementRoleAssignment -Role ApplicationImpersonation -GetEffectiveUsers | Format-List Name,CustomRecipientWriteScope,RecipientWriteScope and Get-ManagementScope <scope> | Format-List RecipientFilter; then add the mailbox to it (change the recipient filter, or move the mailbox into the OU or group the filter selects)."
	case StatusNoMailbox:
		switch code {
		case ews.ErrorInvalidSmtpAddress:
			return "The address is not a valid SMTP address for Exchange: correct it in the user list (Get-Mailbox <name> | Format-List PrimarySmtpAddress)."
		case ews.ErrorInvalidUserPrincipalName:
			return "Exchange cannot resolve the user principal name: correct the UPN (Get-Mailbox <name> | Format-List UserPrincipalName) or impersonate by SID or primary SMTP address."
		case ews.ErrorInvalidSid:
			return "Exchange cannot resolve the SID: correct it (Get-Mailbox <name> | Format-List Sid) or impersonate by UPN or primary SMTP address."
		}
		if h.identityKind == "PrimarySmtpAddress" {
			return "Exchange has no mailbox whose primary SMTP address is this. If it is a secondary (proxy) address, replace it with the mailbox's primary SMTP address (Get-Recipient <address> | Format-List PrimarySmtpAddress) or impersonate by UPN or SID; if the mailbox was removed, remove the user."
		}
		return "Exchange has no mailbox for this identity: check the address, UPN or SID against Get-Mailbox, or remove the user if the mailbox was removed."
	case StatusMailboxUnavailable:
		if code == ews.ErrorMailboxMoveInProgress {
			return "The mailbox is being moved (Get-MoveRequest <mailbox>); check again when the move has completed."
		}
		return "The mailbox database is unavailable or overloaded (Get-MailboxDatabaseCopyStatus); check again when it is mounted and healthy."
	case StatusThrottled:
		s := "Exchange kept throttling the service account"
		if h.backoff > 0 {
			s += fmt.Sprintf(" (last back-off asked: %s", h.backoff.Round(time.Millisecond))
			if h.budget > 0 {
				s += fmt.Sprintf(", retry budget: %s", h.budget)
			}
			s += ")"
		}
		s += ". Check again later or with a lower concurrency"
		if !h.exchangeOnline {
			s += fmt.Sprintf("; on-premises you can give the account its own throttling policy: New-ThrottlingPolicy -Name scc -EwsMaxConcurrency 27 -EwsMaxBurst 300000 -EwsRechargeRate 900000 -EwsCutoffBalance Unlimited; Set-ThrottlingPolicyAssociation -Identity %s -ThrottlingPolicy scc", psQuote(h.account()))
		}
		return s + "."
	case StatusBlockedByPolicy:
		if h.exchangeOnline {
			return exoBlockedFix(h.appID, h.address)
		}
		return "Exchange refused EWS with HTTP 403: EWS is disabled for the mailbox or the organization, or this application is blocked. Check Get-CASMailbox <mailbox> | Format-List Ews* and Get-OrganizationConfig | Format-List Ews*; enable with Set-CASMailbox <mailbox> -EwsEnabled $true and review EwsApplicationAccessPolicy, EwsAllowList and EwsBlockList."
	case StatusAuthFailed:
		if h.appOnly {
			return "Exchange Online rejected the access token (HTTP 401): check the tenant, client id and secret or certificate, that the token is requested for https://outlook.office365.com/.default, and that it has not expired."
		}
		return fmt.Sprintf("Exchange rejected the service account's logon (HTTP 401). Check Account Logon (%s, as DOMAIN\\user or user@domain) and Password, that the account is neither locked out nor expired (Get-ADUser <account> -Properties LockedOut,PasswordExpired), and that the auth method matches what the server offers. The check stopped after one failed logon so that Active Directory does not lock the account out.", h.account())
	case StatusNetworkError:
		return "Check the EWS URL, DNS, the firewall and the proxy between this machine and the Exchange server (Test-NetConnection <host> -Port 443)."
	case StatusError:
		if code == ews.ErrorInvalidExchangeImpersonationHeaderData {
			return "Exchange refused the impersonation header. With OAuth, use an app-only token (client-credentials flow, scope https://outlook.office365.com/.default, application permission full_access_as_app): a delegated token (EWS.AccessAsUser.All) acts as its user and must not impersonate."
		}
		if code == "" {
			return "Exchange answered with an unexpected error; see the message. Run the check again; if it persists, check the Exchange server's event log."
		}
		return fmt.Sprintf("Exchange answered %s; see the message and https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode.", code)
	}
	return ""
}

// ewsVdirCmd names the EWS virtual directory in Exchange Management Shell
// commands.
const ewsVdirCmd = `Set-WebServicesVirtualDirectory -Identity "<server>\EWS (Default Web Site)"`

// authSchemeFix says what to change when a 401 came without the server
// checking any credentials (see credentialsTried): tried is the scheme the
// client used ("" for none), offered the server's schemes, https whether the
// EWS URL is https://. It names the Email Configuration's fields and the
// server's settings, never library options.
func authSchemeFix(tried string, offered []string, https, appOnly bool) string {
	ntlm := offers(offered, "NTLM", "Negotiate")
	basic := offers(offered, "Basic")
	bearer := offers(offered, "Bearer")
	enableNTLM := "enable Windows Authentication (NTLM) on the EWS virtual directory: " + ewsVdirCmd + " -WindowsAuthentication $true; then iisreset"
	switch {
	case appOnly && tried == "":
		return "No access token was sent: the program running the check supplied its own token source, which gave none; let the check request the tokens itself with the configuration's Tenant ID, Client ID and secret or certificate (client-credentials flow with scope https://outlook.office365.com/.default), or fix that token source."
	case appOnly && !bearer:
		return fmt.Sprintf("The server does not accept OAuth access tokens (it offers %s): app-only OAuth for EWS exists only in Exchange Online. Set the EWS URL to https://outlook.office365.com/EWS/Exchange.asmx, or for an on-premises server choose Microsoft Exchange Impersonation with a service account as the %s.", offeredText(offered), org.FieldAccessType)
	case appOnly:
		return remediation(StatusAuthFailed, "", hints{appOnly: true})
	case ntlm:
		return fmt.Sprintf("The server does not accept Basic; it offers %s: set %s to NTLM (or Negotiate automatically), or enable Basic authentication on the EWS virtual directory: %s -BasicAuthentication $true; then iisreset.", offeredText(offered), org.FieldAuthMethod, ewsVdirCmd)
	case basic && !https:
		return fmt.Sprintf("The server offers only Basic, which scc refuses over http:// because the password would cross the network in clear text: use an https:// EWS URL (with %s Negotiate automatically or Basic), or %s.", org.FieldAuthMethod, enableNTLM)
	case basic:
		return fmt.Sprintf("The server offers only Basic: set %s to Basic (or Negotiate automatically), or %s.", org.FieldAuthMethod, enableNTLM)
	case bearer:
		return fmt.Sprintf("The server accepts only OAuth access tokens (Bearer), as Exchange Online does, so a service account password cannot log on: choose Exchange Online app-only OAuth as the %s. %s", org.FieldAccessType, ewsOnlineRetirement)
	}
	return fmt.Sprintf("The server offers %s, none of which a service account with a password can use: %s, or allow Basic over an https:// EWS URL.", offeredText(offered), enableNTLM)
}

// psQuote quotes a value for PowerShell when it needs it.
func psQuote(s string) string {
	if strings.ContainsAny(s, " '\"`$;") {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return s
}

// exoBlockedFix is the one remediation for an HTTP 403 from Exchange
// Online, given by Check (per user and for the preflight) and by Diagnose
// alike: appID is the application (client) id of app-only access ("" when
// there is none), mailbox the mailbox refused ("" when unknown).
func exoBlockedFix(appID, mailbox string) string {
	return "Exchange Online refused EWS with HTTP 403: since 1 October 2026 EWS works there only when the organization allows it and the application is allow-listed. " +
		exoAllowListFix(appID, mailbox) + " Also check any application access policy (Test-ApplicationAccessPolicy)."
}

// exoAllowListFix is the one Exchange Online allow-list remedy that Check
// and Diagnose both give: let the application in at the organization level,
// keep the mailbox from turning EWS off, and plan for the end date.
// EwsAllowedAppIDs is set as a whole list, so the text has the admin read it
// first and keep the IDs already there.
func exoAllowListFix(appID, mailbox string) string {
	if appID == "" {
		appID = "<application (client) id>"
	}
	mbx := "<mailbox>"
	if mailbox != "" {
		mbx = psQuote(mailbox)
	}
	return fmt.Sprintf("In Exchange Online PowerShell: Get-OrganizationConfig | Format-List EwsEnabled,EwsAllowedAppIDs; then Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs <the IDs already listed>,%s (the parameter sets the whole list, so keep the IDs already there; changes can take up to 24 hours). EWS also needs the mailbox to allow it: Get-CASMailbox %s | Format-List EwsEnabled; if False: Set-CASMailbox %s -EwsEnabled $true. %s", appID, mbx, mbx, ewsOnlineRetirement)
}
