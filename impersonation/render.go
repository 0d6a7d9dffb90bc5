package impersonation

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// tableDetailWidth caps the DETAIL column of WriteTable; JSON and CSV keep
// the full text.
const tableDetailWidth = 72

// remediationsPerStatus caps how many distinct remediations WriteTable
// prints for one status.
const remediationsPerStatus = 3

// WriteTable writes the report as an aligned text table for a terminal:
// one row per user (in the report's order), then a summary with the counts
// per status and what to do about each problem. Long messages are cut; use
// [Report.WriteJSON] or [Report.WriteCSV] for the full text.
func (r *Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tUSER\tCODE\tTRIES\tTIME\tDETAIL")
	for _, res := range r.Results {
		user := res.Address
		if res.IdentityKind != "SID" && res.Identity != "" && !strings.EqualFold(res.Identity, res.Address) {
			user += " (" + res.Identity + ")" // a UPN or another SMTP address; SIDs only in JSON and CSV
		}
		code := string(res.Code)
		if code == "" {
			code = "-"
		}
		detail := res.Message
		if res.WriteProbe != WriteProbeNotRun {
			detail = strings.TrimSpace("write probe " + string(res.WriteProbe) + "; " + detail)
			detail = strings.TrimSuffix(detail, ";")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", res.Status, clean(user, 0), code, res.Attempts,
			roundDuration(res.Duration), clean(detail, tableDetailWidth))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	r.writeSummary(ew)
	return ew.err
}

// writeSummary writes counts, stop reason and remediations.
func (r *Report) writeSummary(w io.Writer) {
	fmt.Fprintln(w)
	elapsed := r.Finished.Sub(r.Started)
	fmt.Fprintf(w, "Checked %d of %d users against %s in %s", r.Total-r.Counts[StatusNotChecked], r.Total, r.Endpoint, roundDuration(elapsed))
	if r.ServerVersion != "" {
		fmt.Fprintf(w, " (Exchange %s)", r.ServerVersion)
	}
	fmt.Fprintln(w, ".")
	for _, s := range statusOrder {
		if n := r.Counts[s]; n > 0 {
			fmt.Fprintf(w, "  %-22s %6d  %s\n", s, n, s.Title())
		}
	}
	if retried, extra := r.retries(); retried > 0 {
		fmt.Fprintf(w, "Retried %d users (%d extra requests) after throttling or transient failures; back-offs paused all workers together.\n", retried, extra)
	}
	if line := r.Preflight.retryLine(); line != "" {
		fmt.Fprintln(w, line)
	}
	if p := r.Preflight; p != nil && p.Status != StatusOK {
		fmt.Fprintf(w, "\nPreflight failed: %s %s %s\n", p.Status, p.Code, clean(p.Message, 0))
	}
	if s := r.Stopped; s != nil {
		fmt.Fprintf(w, "\nStopped: %s\n", clean(s.Reason, 0))
		if s.Remediation != "" {
			fmt.Fprintf(w, "  What to do: %s\n", s.Remediation)
		}
	}
	printed := false
	for _, s := range statusOrder {
		if s == StatusOK || r.Counts[s] == 0 {
			continue
		}
		type group struct {
			text  string
			count int
		}
		var groups []group
		idx := map[string]int{}
		for _, res := range r.Results {
			if res.Status != s || res.Remediation == "" {
				continue
			}
			if r.Stopped != nil && s == StatusNotChecked && res.Remediation == r.Stopped.Remediation {
				continue // said once above
			}
			if i, ok := idx[res.Remediation]; ok {
				groups[i].count++
				continue
			}
			idx[res.Remediation] = len(groups)
			groups = append(groups, group{res.Remediation, 1})
		}
		if len(groups) == 0 {
			continue
		}
		if !printed {
			fmt.Fprintln(w, "\nWhat to do:")
			printed = true
		}
		for i, g := range groups {
			if i == remediationsPerStatus {
				fmt.Fprintf(w, "  [%s] … %d more distinct remediations; see the JSON or CSV report.\n", s, len(groups)-i)
				break
			}
			fmt.Fprintf(w, "  [%s ×%d] %s\n", s, g.count, g.text)
		}
	}
}

// retries counts users that needed more than one attempt, and the extra
// requests they took.
// retryLine says how often the preflight was throttled or retried, which
// the per-user counts do not show; "" when it took one request (or p is
// nil).
func (p *Preflight) retryLine() string {
	if p == nil || p.Attempts <= 1 {
		return ""
	}
	retries := p.Attempts - 1
	end := "before it succeeded"
	if p.Status != StatusOK {
		end = fmt.Sprintf("and sent %d requests before it gave up", p.Attempts)
	}
	switch {
	case p.Status == StatusOK && p.Throttled == retries:
		return fmt.Sprintf("The preflight was throttled %s %s; back-offs paused the check.", times(p.Throttled), end)
	case p.Throttled > 0:
		if p.Status == StatusOK {
			end = fmt.Sprintf("and retried %s in all before it succeeded", times(retries))
		}
		return fmt.Sprintf("The preflight was throttled %s %s; back-offs paused the check.", times(p.Throttled), end)
	case p.Status == StatusOK:
		return fmt.Sprintf("The preflight was retried %s after transient failures before it succeeded.", times(retries))
	}
	return fmt.Sprintf("The preflight was retried %s after transient failures %s.", times(retries), end)
}

// times is "once", "twice" or "N times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return strconv.Itoa(n) + " times"
}

func (r *Report) retries() (users, extra int) {
	for _, res := range r.Results {
		if res.Attempts > 1 {
			users++
			extra += res.Attempts - 1
		}
	}
	return users, extra
}

// WriteJSON writes the report as indented JSON (see [Report.MarshalJSON]).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// csvHeader is the header row of WriteCSV.
var csvHeader = []string{"index", "address", "identity_kind", "identity", "status", "code", "message",
	"remediation", "attempts", "duration_ms", "write_probe", "checked_at"}

// WriteCSV writes one row per result, in the report's order, after a header
// row: index, address, identity_kind, identity, status, code, message,
// remediation, attempts, duration_ms, write_probe, checked_at (RFC 3339).
// Cells that a spreadsheet would run as a formula are prefixed with a single
// quote.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, res := range r.Results {
		checked := ""
		if !res.CheckedAt.IsZero() {
			checked = res.CheckedAt.UTC().Format(time.RFC3339Nano)
		}
		row := []string{
			strconv.Itoa(res.Index), res.Address, res.IdentityKind, res.Identity, string(res.Status),
			string(res.Code), res.Message, res.Remediation, strconv.Itoa(res.Attempts),
			strconv.FormatFloat(ms(res.Duration), 'f', 3, 64), string(res.WriteProbe), checked,
		}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formula injection: addresses and messages
// come from users and servers.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return s // a plain (negative) number
		}
		return "'" + s
	}
	return s
}

// clean makes s fit one table cell: control characters become spaces, and
// when max > 0 the text is cut to max runes with an ellipsis.
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if max > 0 && utf8.RuneCountInString(s) > max {
		rs := []rune(s)
		s = string(rs[:max-1]) + "…"
	}
	return s
}

// roundDuration prints durations with a precision that suits a table.
func roundDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// errWriter remembers the first write error so that rendering code can
// write freely and report once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
