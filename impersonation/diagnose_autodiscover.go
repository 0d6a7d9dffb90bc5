package impersonation

import (
	"context"
	"fmt"
	"strings"

	"github.com/sccsync/scc/ews/autodiscover"
)

// WithAutodiscover makes [Diagnose] run its Autodiscover step also when the
// EWS URL is configured (to compare), with opts for the Autodiscover client
// (autodiscover.WithAllowedHosts to confirm a host; in tests, the dialer,
// SRV lookup and TLS configuration). A configuration with DiscoverEWSURL
// runs the step without this option.
func WithAutodiscover(opts ...autodiscover.Option) Option {
	return diagnoseOption{"WithAutodiscover", func(s *diagnoseSettings) error {
		for i, o := range opts {
			if o == nil {
				return fmt.Errorf("impersonation: WithAutodiscover: option %d is nil", i)
			}
		}
		s.autodiscover = true
		s.autodiscoverOpts = append(s.autodiscoverOpts, opts...)
		return nil
	}}
}

// stepAutodiscover discovers the EWS URL for the mailbox (or the service
// account's UPN when the mailbox is a SID) and lists every candidate.
func (g *diagnoser) stepAutodiscover(ctx context.Context) Step {
	configured := strings.TrimSpace(g.cfg.EWSURL)
	if !g.cfg.DiscoverEWSURL && !g.s.autodiscover {
		return Step{Status: StepSkipped, Detail: "the EWS URL is configured; Autodiscover was not requested"}
	}
	if configured != "" && g.cfg.DiscoverEWSURL && !g.s.autodiscover {
		return Step{Status: StepSkipped, Detail: "the EWS URL was discovered before and is saved: " + redactURL(configured)}
	}
	address := g.anchor
	if address == "" && strings.Contains(g.cfg.AccountLogon, "@") {
		address = strings.TrimSpace(g.cfg.AccountLogon)
	}
	if address == "" {
		return g.autodiscoverFailed(configured, "there is no address to run Autodiscover for (the mailbox is a SID and Account Logon is not user@domain)", nil, nil)
	}
	cfg := g.cfg
	d, err := DiscoverEWSURL(ctx, &cfg, address, g.s.autodiscoverOpts...)
	if err != nil {
		var attempts []autodiscover.Attempt
		var unconfirmed []autodiscover.Unconfirmed
		if d != nil {
			attempts, unconfirmed = d.Attempts, d.Unconfirmed
		}
		return g.autodiscoverFailed(configured, "Autodiscover found no EWS URL for "+address, attempts, unconfirmed)
	}
	detail := fmt.Sprintf("found %s via %s", redactURL(d.EWSURL), d.From)
	if d.GroupingInformation != "" {
		detail += "; GroupingInformation " + d.GroupingInformation
	}
	detail += attemptList(d.Attempts)
	if configured == "" {
		if err := g.setEndpoint(d.EWSURL); err != nil {
			return stepFail("the discovered EWS URL does not parse", "Enter the EWS URL by hand.")
		}
		return stepPass(detail)
	}
	if !strings.EqualFold(strings.TrimRight(configured, "/"), strings.TrimRight(d.EWSURL, "/")) {
		return stepWarn(detail+"; the configured EWS URL is "+redactURL(configured),
			"Check which URL is right: Autodiscover answers "+redactURL(d.EWSURL)+", the configuration says "+redactURL(configured)+".")
	}
	return stepPass(detail)
}

// autodiscoverFailed fails the step when there is no configured URL to go
// on, and warns otherwise.
func (g *diagnoser) autodiscoverFailed(configured, why string, attempts []autodiscover.Attempt, unconfirmed []autodiscover.Unconfirmed) Step {
	fix := "Enter the EWS URL by hand (https://<server>/EWS/Exchange.asmx), or publish Autodiscover for the domain (autodiscover.<domain> with a valid certificate)."
	if len(unconfirmed) > 0 {
		var hosts []string
		seen := map[string]bool{}
		for _, u := range unconfirmed {
			if !seen[u.Host] {
				seen[u.Host] = true
				hosts = append(hosts, u.Host)
			}
		}
		fix = fmt.Sprintf("Autodiscover pointed at %s, outside the email domain: no credentials were sent there. If you trust it, add it to the allowed Autodiscover hosts and run again; otherwise enter the EWS URL by hand.", strings.Join(hosts, ", "))
	}
	detail := why + attemptList(attempts)
	if configured != "" {
		return stepWarn(detail+"; the configured EWS URL "+redactURL(configured)+" is tested next", fix)
	}
	return stepFail(detail, fix)
}

// attemptList renders the attempts for a step's detail.
func attemptList(as []autodiscover.Attempt) string {
	if len(as) == 0 {
		return ""
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return "; candidates: " + strings.Join(parts, " | ")
}
