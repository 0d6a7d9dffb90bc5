package impersonation

// Status is the outcome of checking one user, as an admin reads it. The
// values are short lowercase words so that JSON and CSV reports stay
// readable and stable.
type Status string

// The statuses of a [Result], from the most to the least severe. Statuses
// lists them in this order, which is also the order of a sorted [Report].
const (
	// StatusImpersonationDenied: the service account may not use Exchange
	// Impersonation at all (ErrorImpersonationDenied). Every user would
	// fail, so the check stops at the first one.
	StatusImpersonationDenied Status = "impersonation-denied"
	// StatusAuthFailed: Exchange answered HTTP 401: it rejected the
	// service account's credentials, or it offers no authentication scheme
	// the configuration can use (for example only Basic over http://, which
	// scc refuses), so none were checked; the stop's Reason and Remediation
	// tell the two apart. The check stops so that a wrong password is not
	// repeated until Active Directory locks the account out.
	StatusAuthFailed Status = "auth-failed"
	// StatusBlockedByPolicy: Exchange answered HTTP 403: EWS is disabled
	// for the tenant, the mailbox or the application (Exchange Online
	// blocks EWS for apps that are not allow-listed since October 2026).
	StatusBlockedByPolicy Status = "blocked-by-policy"
	// StatusNetworkError: the EWS endpoint could not be reached or the TLS
	// handshake failed (DNS, TCP, certificate).
	StatusNetworkError Status = "network-error"
	// StatusOutOfScope: the service account may impersonate, but not this
	// user (ErrorImpersonateUserDenied): the mailbox is outside the
	// management scope of its role assignment.
	StatusOutOfScope Status = "out-of-scope"
	// StatusNoMailbox: Exchange knows no mailbox for the user's identity
	// (ErrorNonExistentMailbox, ErrorInvalidSmtpAddress, …), for example a
	// proxy address used where the primary SMTP address is needed.
	StatusNoMailbox Status = "no-mailbox"
	// StatusMailboxUnavailable: the mailbox database is unavailable or the
	// mailbox is being moved, and stayed so after the retries.
	StatusMailboxUnavailable Status = "mailbox-unavailable"
	// StatusThrottled: Exchange kept throttling beyond the retry budget.
	StatusThrottled Status = "throttled"
	// StatusError: any other EWS error; the code and message are kept.
	StatusError Status = "error"
	// StatusNotChecked: the user was not checked because the check was
	// cancelled or stopped; the result says why.
	StatusNotChecked Status = "not-checked"
	// StatusOK: the service account can impersonate the user and read the
	// inbox (and, with [WithWriteProbe], create and delete a draft).
	StatusOK Status = "ok"
)

// statusOrder is the severity order; index 0 is the most severe.
var statusOrder = [...]Status{
	StatusImpersonationDenied,
	StatusAuthFailed,
	StatusBlockedByPolicy,
	StatusNetworkError,
	StatusOutOfScope,
	StatusNoMailbox,
	StatusMailboxUnavailable,
	StatusThrottled,
	StatusError,
	StatusNotChecked,
	StatusOK,
}

// Statuses returns every status, from the most to the least severe.
func Statuses() []Status {
	out := make([]Status, len(statusOrder))
	copy(out, statusOrder[:])
	return out
}

// Known reports whether s is one of the declared statuses.
func (s Status) Known() bool { return s.rank() < len(statusOrder) }

// OK reports whether s is [StatusOK].
func (s Status) OK() bool { return s == StatusOK }

// String returns the status as it appears in reports.
func (s Status) String() string { return string(s) }

// rank is the position of s in the severity order; unknown statuses sort
// last.
func (s Status) rank() int {
	for i, v := range statusOrder {
		if v == s {
			return i
		}
	}
	return len(statusOrder)
}

// Title is a short human description of the status, used in summaries.
func (s Status) Title() string {
	switch s {
	case StatusOK:
		return "impersonation works"
	case StatusImpersonationDenied:
		return "service account may not impersonate"
	case StatusAuthFailed:
		return "service account credentials rejected"
	case StatusBlockedByPolicy:
		return "EWS blocked by policy"
	case StatusNetworkError:
		return "EWS endpoint unreachable"
	case StatusOutOfScope:
		return "mailbox outside the impersonation scope"
	case StatusNoMailbox:
		return "no such mailbox"
	case StatusMailboxUnavailable:
		return "mailbox temporarily unavailable"
	case StatusThrottled:
		return "throttled beyond the retry budget"
	case StatusError:
		return "other EWS error"
	case StatusNotChecked:
		return "not checked"
	}
	return string(s)
}
