package impersonation

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// diagnoseTextWidth is where WriteText wraps details and fixes.
const diagnoseTextWidth = 100

// WriteText writes the diagnosis for a terminal: a header, one line per
// step with its mark (✓ pass, ! warning, ✗ fail, - skipped), title,
// duration and detail, the fix under every warning and failure, then the
// verdict and the first fix to apply.
func (d *Diagnosis) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Service Account Access diagnosis for %s\n", orDash(clean(d.Mailbox, 0)))
	fmt.Fprintf(ew, "  EWS URL          %s\n", orDash(d.Endpoint))
	acct := orDash(d.ServiceAccount)
	if d.AuthMethod != "" {
		acct += " (" + d.AuthMethod + ")"
	}
	fmt.Fprintf(ew, "  Service account  %s\n", acct)
	if d.Product != "" {
		fmt.Fprintf(ew, "  Exchange         %s, build %s\n", d.Product, d.ServerVersion)
	}
	fmt.Fprintln(ew)

	titleW := 0
	for _, s := range d.Steps {
		titleW = max(titleW, utf8.RuneCountInString(s.Name.Title()))
	}
	const durW = 7
	indent := strings.Repeat(" ", 2+1+2+titleW+2+durW+2)
	for _, s := range d.Steps {
		dur := ""
		if s.Status != StepSkipped {
			dur = roundDuration(s.Duration)
		}
		head := fmt.Sprintf("  %s  %-*s  %-*s  ", s.Status.Mark(), titleW, s.Name.Title(), durW, dur)
		detail := clean(s.Detail, 0)
		if s.Code != "" && !strings.Contains(detail, string(s.Code)) {
			detail = string(s.Code) + ": " + detail
		}
		writeWrapped(ew, head, indent, detail)
		if s.Fix != "" && (s.Status == StepFailed || s.Status == StepWarning) {
			writeWrapped(ew, indent+"Fix: ", indent+"     ", clean(s.Fix, 0))
		}
	}
	fmt.Fprintln(ew)
	switch v := d.Verdict(); v {
	case StepFailed:
		f, _ := d.Failed()
		fmt.Fprintf(ew, "Verdict: FAIL at %q.\n", f.Name.Title())
	case StepWarning:
		fmt.Fprintln(ew, "Verdict: PASS with warnings.")
	default:
		fmt.Fprintln(ew, "Verdict: PASS.")
	}
	if fix := d.Fix(); fix != "" {
		writeWrapped(ew, "What to do first: ", "  ", clean(fix, 0))
	}
	return ew.err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeWrapped writes text after first, wrapping at diagnoseTextWidth and
// starting continuation lines with indent.
func writeWrapped(w io.Writer, first, indent, text string) {
	line := first
	col := utf8.RuneCountInString(first)
	start := true
	for _, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word)
		if !start && col+1+n > diagnoseTextWidth {
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			line, col, start = indent, utf8.RuneCountInString(indent), true
		}
		if !start {
			line += " "
			col++
		}
		line += word
		col += n
		start = false
	}
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}

// stepJSON is the JSON form of a Step.
type stepJSON struct {
	Name       StepName         `json:"name"`
	Title      string           `json:"title"`
	Status     StepStatus       `json:"status"`
	DurationMS float64          `json:"duration_ms"`
	Detail     string           `json:"detail,omitempty"`
	Fix        string           `json:"fix,omitempty"`
	Code       ews.ResponseCode `json:"code,omitempty"`
}

// MarshalJSON renders the step with its title and its duration in
// milliseconds.
func (s Step) MarshalJSON() ([]byte, error) {
	return json.Marshal(stepJSON{Name: s.Name, Title: s.Name.Title(), Status: s.Status, DurationMS: ms(s.Duration),
		Detail: s.Detail, Fix: s.Fix, Code: s.Code})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Step) UnmarshalJSON(b []byte) error {
	var j stepJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Step{Name: j.Name, Status: j.Status, Duration: time.Duration(j.DurationMS * float64(time.Millisecond)),
		Detail: j.Detail, Fix: j.Fix, Code: j.Code}
	return nil
}

// diagnosisJSON is the JSON form of a Diagnosis.
type diagnosisJSON struct {
	Mailbox        string         `json:"mailbox"`
	Endpoint       string         `json:"endpoint"`
	ServiceAccount string         `json:"service_account,omitempty"`
	AccessType     org.AccessType `json:"access_type"`
	AuthMethod     string         `json:"auth_method,omitempty"`
	ServerVersion  string         `json:"server_version,omitempty"`
	Product        string         `json:"product,omitempty"`
	ExchangeOnline bool           `json:"exchange_online"`
	Started        time.Time      `json:"started"`
	DurationMS     float64        `json:"duration_ms"`
	Verdict        StepStatus     `json:"verdict"`
	FailedStep     StepName       `json:"failed_step,omitempty"`
	Fix            string         `json:"fix,omitempty"`
	Steps          []Step         `json:"steps"`
}

// MarshalJSON renders the diagnosis with snake_case keys, durations in
// milliseconds, the verdict, the failed step and the first fix. It never
// contains a secret.
func (d *Diagnosis) MarshalJSON() ([]byte, error) {
	j := diagnosisJSON{
		Mailbox: d.Mailbox, Endpoint: d.Endpoint, ServiceAccount: d.ServiceAccount, AccessType: d.AccessType,
		AuthMethod: d.AuthMethod, ServerVersion: d.ServerVersion, Product: d.Product, ExchangeOnline: d.ExchangeOnline,
		Started: d.Started, DurationMS: ms(d.Duration), Verdict: d.Verdict(), Fix: d.Fix(), Steps: d.Steps,
	}
	if f, ok := d.Failed(); ok {
		j.FailedStep = f.Name
	}
	if j.Steps == nil {
		j.Steps = []Step{}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes; the verdict and fix are
// derived from the steps again.
func (d *Diagnosis) UnmarshalJSON(b []byte) error {
	var j diagnosisJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = Diagnosis{
		Mailbox: j.Mailbox, Endpoint: j.Endpoint, ServiceAccount: j.ServiceAccount, AccessType: j.AccessType,
		AuthMethod: j.AuthMethod, ServerVersion: j.ServerVersion, Product: j.Product, ExchangeOnline: j.ExchangeOnline,
		Started: j.Started, Duration: time.Duration(j.DurationMS * float64(time.Millisecond)), Steps: j.Steps,
	}
	return nil
}

// WriteJSON writes the diagnosis as indented JSON (see
// [Diagnosis.MarshalJSON]).
func (d *Diagnosis) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
