// Package progress draws the progress of a check for the example commands:
// a live bar on a terminal, a line every few seconds elsewhere, always on
// stderr so that stdout stays the report.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sccsync/scc/impersonation"
)

// Bar draws a live bar on a terminal and periodic lines elsewhere (logs,
// CI). Its Update is an impersonation.WithProgress callback.
type Bar struct {
	w        io.Writer
	terminal bool
	last     time.Time
	drawn    bool
	lastPct  int
}

// New returns a Bar that draws on w (a bar when w is a terminal).
func New(w io.Writer) *Bar {
	p := &Bar{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// Update is the check's progress callback (called from one goroutine).
func (p *Bar) Update(pr impersonation.Progress) {
	now := time.Now()
	final := pr.Done == pr.Total
	if p.terminal {
		if !final && now.Sub(p.last) < 80*time.Millisecond {
			return
		}
		p.last = now
		fmt.Fprintf(p.w, "\r\033[K%s", line(pr, 30))
		p.drawn = true
		return
	}
	pct := 100 * pr.Done / max(pr.Total, 1)
	if final || now.Sub(p.last) >= 2*time.Second || pct >= p.lastPct+25 {
		p.last, p.lastPct = now, pct-pct%25
		fmt.Fprintln(p.w, line(pr, 0))
	}
}

// Done ends the bar's line.
func (p *Bar) Done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// line renders the progress; width 0 leaves the bar out.
func line(pr impersonation.Progress, width int) string {
	var b strings.Builder
	if width > 0 {
		filled := width * pr.Done / max(pr.Total, 1)
		b.WriteString("[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "] ")
	}
	fmt.Fprintf(&b, "%d/%d users", pr.Done, pr.Total)
	for _, s := range impersonation.Statuses() {
		if n := pr.Counts[s]; n > 0 {
			fmt.Fprintf(&b, "  %s %d", s, n)
		}
	}
	fmt.Fprintf(&b, "  %s", pr.Elapsed.Round(100*time.Millisecond))
	if pr.Concurrency > 0 {
		fmt.Fprintf(&b, "  (%d in flight)", pr.Concurrency)
	}
	return b.String()
}
