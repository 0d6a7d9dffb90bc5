package impersonation

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
)

// Result is the outcome of checking one user. A [Report] holds exactly one
// Result per input user, whatever happened during the check.
type Result struct {
	// Index is the user's position in the input (Organization.Users or the
	// users given to CheckUsers), so callers can map results back.
	Index int
	// Address is the user's primary SMTP address as configured.
	Address string
	// IdentityKind names the ExchangeImpersonation ConnectingSID element
	// used: PrimarySmtpAddress, SmtpAddress, PrincipalName or SID.
	IdentityKind string
	// Identity is the value sent in that element.
	Identity string
	// Status is the outcome, see [Status].
	Status Status
	// Code is the EWS response code Exchange answered with (empty for
	// success, HTTP and network failures); kept verbatim.
	Code ews.ResponseCode
	// Message is Exchange's message text or the error, kept verbatim.
	Message string
	// Remediation says what the admin does about it; empty for OK.
	Remediation string
	// Attempts is how many impersonated requests were sent for the
	// read probe (retries included).
	Attempts int
	// Duration is the time spent on this user, waits included.
	Duration time.Duration
	// WriteProbe is the outcome of the optional write probe.
	WriteProbe WriteProbe
	// CheckedAt is when the check of this user finished; zero when the
	// user was not checked.
	CheckedAt time.Time
	// Provision is the outcome of provisioning the mailbox (Activate and
	// Renew with a provisioning plan, for users that passed); nil
	// otherwise. Status stays the access check's.
	Provision *Provision
	// GroupingInformation is the user's GroupingInformation from SOAP
	// Autodiscover (with [WithGroupingInformation]): with the EWS URL it
	// keys the affinity groups of a watcher for many mailboxes. Empty when
	// not requested or not available.
	GroupingInformation string
}

// WriteProbe is the outcome of the optional write probe ([WithWriteProbe]):
// creating a test message in the user's Drafts folder and deleting it.
type WriteProbe string

// The outcomes of the write probe.
const (
	// WriteProbeNotRun: the probe was not requested or the read probe
	// failed first.
	WriteProbeNotRun WriteProbe = ""
	// WriteProbePassed: the test item was created and hard-deleted.
	WriteProbePassed WriteProbe = "passed"
	// WriteProbeFailed: the test item could not be created; nothing was
	// left behind.
	WriteProbeFailed WriteProbe = "failed"
	// WriteProbeItemLeft: the test item was created (or may have been) but
	// could not be deleted; the remediation says how to find it.
	WriteProbeItemLeft WriteProbe = "item-left-behind"
)

// Counts is the number of results per status.
type Counts map[Status]int

// Failed is the number of results that are neither OK nor not checked.
func (c Counts) Failed() int {
	n := 0
	for s, v := range c {
		if s != StatusOK && s != StatusNotChecked {
			n += v
		}
	}
	return n
}

// Stop says why a check ended before probing every user.
type Stop struct {
	// Status is the status that stopped the run (auth-failed,
	// impersonation-denied, blocked-by-policy, network-error, …) or
	// not-checked for cancellation and invalid configurations.
	Status Status
	// Code is the EWS response code behind the stop, if any.
	Code ews.ResponseCode
	// Reason is a one-line explanation; it is also the Message of every
	// result that was not checked because of the stop.
	Reason string
	// Remediation says what to do.
	Remediation string
}

// Preflight is the outcome of the request the check sends before any
// impersonated one: the service account logs on to its own mailbox (or
// tries to), proving endpoint, TLS and credentials.
type Preflight struct {
	// Status is OK when the logon was proven, otherwise why not.
	Status Status
	// Code and Message are Exchange's answer. Any SOAP answer, even an
	// error such as ErrorNonExistentMailbox for a service account without
	// a mailbox, proves the logon.
	Code    ews.ResponseCode
	Message string
	// Duration of the preflight, back-off waits included.
	Duration time.Duration
	// Attempts is the number of preflight requests sent (1 when the first
	// answer settled it; more after throttling or transient failures).
	Attempts int
	// Throttled is how many of those requests Exchange answered by asking
	// the service account to back off (ErrorServerBusy and the like).
	Throttled int
}

// Report is the outcome of a check.
//
// Results holds exactly one [Result] per input user. They are sorted by
// status severity (the order of [Statuses]: problems first, OK last), then
// by address (case-insensitively), then by input position, so that the same
// outcome always renders the same way. [Report.InInputOrder] returns them
// in input order (by Result.Index).
type Report struct {
	// Endpoint is the EWS URL checked (user information, query and
	// fragment removed: they may carry secrets).
	Endpoint string
	// ServiceAccount is the logon of the service account (or the
	// application) that impersonated. No secret is ever stored here.
	ServiceAccount string
	// ServerVersion is the Exchange build seen in ServerVersionInfo
	// (e.g. "15.2.1544.4"), when the server sent one.
	ServerVersion string
	// Started and Finished bound the run.
	Started, Finished time.Time
	// Total is the number of input users (= len(Results)).
	Total int
	// Counts is the number of results per status.
	Counts Counts
	// Preflight is the outcome of the logon proof; nil when the check did
	// not get that far (invalid configuration, cancelled first).
	Preflight *Preflight
	// Stopped is non-nil when the check ended before every user was
	// probed.
	Stopped *Stop
	// WriteProbe reports whether the write probe was requested.
	WriteProbe bool
	// Autodiscover says where GroupingInformation came from, or why it is
	// missing ([WithGroupingInformation]); empty when not requested.
	Autodiscover string
	// Results, one per user, sorted as described above.
	Results []Result
}

// Result returns the result for the user at input position index (a linear
// search; index Results by Result.Index to look many up).
func (r *Report) Result(index int) (Result, bool) {
	for _, res := range r.Results {
		if res.Index == index {
			return res, true
		}
	}
	return Result{}, false
}

// InInputOrder returns the results in the order of the input users
// (Organization.Users or the users given to CheckUsers): element i is the
// result of user i. It is a new slice; Results keeps its sorted order.
func (r *Report) InInputOrder() []Result {
	out := slices.Clone(r.Results)
	slices.SortFunc(out, func(a, b Result) int { return a.Index - b.Index })
	return out
}

// OK reports whether every user passed.
func (r *Report) OK() bool {
	return r.Total > 0 && r.Counts[StatusOK] == r.Total
}

// sortResults orders results as documented on [Report].
func sortResults(rs []Result) {
	slices.SortStableFunc(rs, func(a, b Result) int {
		if d := a.Status.rank() - b.Status.rank(); d != 0 {
			return d
		}
		if c := strings.Compare(strings.ToLower(a.Address), strings.ToLower(b.Address)); c != 0 {
			return c
		}
		return a.Index - b.Index
	})
}

// countResults tallies results by status.
func countResults(rs []Result) Counts {
	c := Counts{}
	for _, r := range rs {
		c[r.Status]++
	}
	return c
}

// resultJSON is the JSON form of a Result: durations in milliseconds,
// empty fields left out.
type resultJSON struct {
	Index        int              `json:"index"`
	Address      string           `json:"address"`
	IdentityKind string           `json:"identity_kind,omitempty"`
	Identity     string           `json:"identity,omitempty"`
	Status       Status           `json:"status"`
	Code         ews.ResponseCode `json:"code,omitempty"`
	Message      string           `json:"message,omitempty"`
	Remediation  string           `json:"remediation,omitempty"`
	Attempts     int              `json:"attempts"`
	DurationMS   float64          `json:"duration_ms"`
	WriteProbe   WriteProbe       `json:"write_probe,omitempty"`
	CheckedAt    *time.Time       `json:"checked_at,omitempty"`
	Grouping     string           `json:"grouping_information,omitempty"`
	Provision    *provisionJSON   `json:"provision,omitempty"`
}

// provisionJSON is a Provision in a JSON report; the error is its Message.
type provisionJSON struct {
	Status      Status              `json:"status"`
	Code        ews.ResponseCode    `json:"code,omitempty"`
	Message     string              `json:"message,omitempty"`
	Remediation string              `json:"remediation,omitempty"`
	Folders     []ProvisionedFolder `json:"folders,omitempty"`
	Categories  []string            `json:"categories,omitempty"`
	Added       []string            `json:"added_categories,omitempty"`
	// Baselines are the keys of the baseline sync states taken (the
	// states themselves are opaque and large, and stay out of reports).
	Baselines []string `json:"baselines,omitempty"`
	Verified  bool     `json:"verified,omitempty"`
	Requests  int      `json:"requests"`
	Writes    int      `json:"writes"`
}

func (p *Provision) toJSON() *provisionJSON {
	if p == nil {
		return nil
	}
	j := &provisionJSON{Status: p.Status, Code: p.Code, Message: p.Message, Remediation: p.Remediation}
	if r := p.ProvisionResult; r != nil {
		j.Folders, j.Categories, j.Added, j.Verified, j.Requests, j.Writes = r.Folders, r.Categories, r.Added, r.Verified, r.Requests, r.Writes
		j.Baselines = slices.Sorted(maps.Keys(r.SyncStates))
	}
	return j
}

func (j *provisionJSON) provision() *Provision {
	if j == nil {
		return nil
	}
	res := &ProvisionResult{Folders: j.Folders, Categories: j.Categories, Added: j.Added, Verified: j.Verified, Requests: j.Requests, Writes: j.Writes}
	if j.Status != StatusOK && j.Message != "" {
		res.Err = errors.New(j.Message)
	}
	return &Provision{ProvisionResult: res, Status: j.Status, Code: j.Code, Message: j.Message, Remediation: j.Remediation}
}

// MarshalJSON renders the result with its duration in milliseconds.
func (r Result) MarshalJSON() ([]byte, error) {
	j := resultJSON{
		Index: r.Index, Address: r.Address, IdentityKind: r.IdentityKind, Identity: r.Identity,
		Status: r.Status, Code: r.Code, Message: r.Message, Remediation: r.Remediation,
		Attempts: r.Attempts, DurationMS: ms(r.Duration), WriteProbe: r.WriteProbe,
		Grouping: r.GroupingInformation, Provision: r.Provision.toJSON(),
	}
	if !r.CheckedAt.IsZero() {
		t := r.CheckedAt
		j.CheckedAt = &t
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Result) UnmarshalJSON(b []byte) error {
	var j resultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Result{
		Index: j.Index, Address: j.Address, IdentityKind: j.IdentityKind, Identity: j.Identity,
		Status: j.Status, Code: j.Code, Message: j.Message, Remediation: j.Remediation,
		Attempts: j.Attempts, Duration: time.Duration(j.DurationMS * float64(time.Millisecond)),
		WriteProbe: j.WriteProbe, GroupingInformation: j.Grouping, Provision: j.Provision.provision(),
	}
	if j.CheckedAt != nil {
		r.CheckedAt = *j.CheckedAt
	}
	return nil
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// reportJSON is the JSON form of a Report.
type reportJSON struct {
	Endpoint       string         `json:"endpoint"`
	ServiceAccount string         `json:"service_account,omitempty"`
	ServerVersion  string         `json:"server_version,omitempty"`
	Started        time.Time      `json:"started"`
	Finished       time.Time      `json:"finished"`
	DurationMS     float64        `json:"duration_ms"`
	Total          int            `json:"total"`
	Counts         Counts         `json:"counts"`
	Preflight      *preflightJSON `json:"preflight,omitempty"`
	Stopped        *stopJSON      `json:"stopped,omitempty"`
	WriteProbe     bool           `json:"write_probe"`
	Autodiscover   string         `json:"autodiscover,omitempty"`
	Results        []Result       `json:"results"`
}

type preflightJSON struct {
	Status     Status           `json:"status"`
	Code       ews.ResponseCode `json:"code,omitempty"`
	Message    string           `json:"message,omitempty"`
	DurationMS float64          `json:"duration_ms"`
	Attempts   int              `json:"attempts"`
	Throttled  int              `json:"throttled"`
}

type stopJSON struct {
	Status      Status           `json:"status"`
	Code        ews.ResponseCode `json:"code,omitempty"`
	Reason      string           `json:"reason"`
	Remediation string           `json:"remediation,omitempty"`
}

// MarshalJSON renders the report with snake_case keys and durations in
// milliseconds. It never contains a secret: the configuration's password
// and client secret are not part of a Report.
func (r *Report) MarshalJSON() ([]byte, error) {
	j := reportJSON{
		Endpoint: r.Endpoint, ServiceAccount: r.ServiceAccount, ServerVersion: r.ServerVersion,
		Started: r.Started, Finished: r.Finished, DurationMS: ms(r.Finished.Sub(r.Started)),
		Total: r.Total, Counts: r.Counts, WriteProbe: r.WriteProbe, Autodiscover: r.Autodiscover, Results: r.Results,
	}
	if j.Counts == nil {
		j.Counts = Counts{}
	}
	if j.Results == nil {
		j.Results = []Result{}
	}
	if p := r.Preflight; p != nil {
		j.Preflight = &preflightJSON{Status: p.Status, Code: p.Code, Message: p.Message, DurationMS: ms(p.Duration),
			Attempts: p.Attempts, Throttled: p.Throttled}
	}
	if s := r.Stopped; s != nil {
		j.Stopped = &stopJSON{Status: s.Status, Code: s.Code, Reason: s.Reason, Remediation: s.Remediation}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes, so stored reports can be
// rendered again.
func (r *Report) UnmarshalJSON(b []byte) error {
	var j reportJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Report{
		Endpoint: j.Endpoint, ServiceAccount: j.ServiceAccount, ServerVersion: j.ServerVersion,
		Started: j.Started, Finished: j.Finished, Total: j.Total, Counts: j.Counts,
		WriteProbe: j.WriteProbe, Autodiscover: j.Autodiscover, Results: j.Results,
	}
	if p := j.Preflight; p != nil {
		r.Preflight = &Preflight{Status: p.Status, Code: p.Code, Message: p.Message,
			Duration: time.Duration(p.DurationMS * float64(time.Millisecond)), Attempts: p.Attempts, Throttled: p.Throttled}
	}
	if s := j.Stopped; s != nil {
		r.Stopped = &Stop{Status: s.Status, Code: s.Code, Reason: s.Reason, Remediation: s.Remediation}
	}
	return nil
}

// Provision is the outcome of provisioning one mailbox during activation.
type Provision struct {
	*ProvisionResult
	// Status, Code, Message and Remediation describe Err as a check
	// failure is described (StatusOK when Err is nil); a folder conflict
	// is StatusError with Code "folder-conflict".
	Status      Status
	Code        ews.ResponseCode
	Message     string
	Remediation string
}
