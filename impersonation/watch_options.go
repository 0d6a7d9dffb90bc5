package impersonation

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// DefaultSaveInterval is how often a [Watcher] saves the positions that
// changed, unless [WithSaveInterval] says otherwise.
const DefaultSaveInterval = 5 * time.Second

// watchTakes are the check options that configure the watcher too.
var watchTakes = map[string]bool{
	"WithConcurrency":         true,
	"WithRequestTimeout":      true,
	"WithRetryBudget":         true,
	"WithLogger":              true,
	"WithGroupingInformation": true,
	"withClock":               true,
}

// watchSettings is what the watcher's options fill; settings holds the
// check options it shares.
type watchSettings struct {
	settings
	folders      []string
	shape        ews.BaseShape
	props        []ews.FieldURI
	extProps     []ews.ExtendedFieldURI
	status       func(MailboxStatus)
	positions    PositionStore
	saveInterval time.Duration
	grouping     map[string]string // by org.AddressKey
	connTimeout  time.Duration
	idleTimeout  time.Duration
}

func newWatchSettings(opts []Option) (*watchSettings, error) {
	ws := &watchSettings{
		settings: settings{
			concurrency: DefaultConcurrency,
			reqTimeout:  DefaultRequestTimeout,
			budget:      RetryBudget{}.withDefaults(),
			now:         time.Now,
		},
		saveInterval: DefaultSaveInterval,
		props:        []ews.FieldURI{"item:ItemClass"},
	}
	var errs []error
	for i, opt := range opts {
		if opt == nil {
			errs = append(errs, fmt.Errorf("impersonation: option %d is nil", i))
			continue
		}
		if err := opt.applyWatch(ws); err != nil {
			errs = append(errs, err)
		}
	}
	if ws.logger == nil {
		ws.logger = slog.New(slog.DiscardHandler)
	}
	return ws, errors.Join(errs...)
}

// watchOption is an Option of the watcher only.
type watchOption struct {
	name string
	f    func(*watchSettings) error
}

func (o watchOption) applyWatch(s *watchSettings) error { return o.f(s) }
func (o watchOption) applyCheck(*settings) error {
	return fmt.Errorf("impersonation: %s is an option of NewWatcher, not of Check, CheckUsers, Activate or Renew", o.name)
}
func (o watchOption) applyDiagnose(*diagnoseSettings) error {
	return fmt.Errorf("impersonation: %s is an option of NewWatcher, not of Diagnose", o.name)
}

// WithWatchFolders chooses the folders the watcher watches in every
// mailbox, by key: the Key of a folder of the organization's provisioning
// plan (its id is taken from the user's org.SyncState.Folders, so the user
// must have been provisioned) or a distinguished folder name such as
// "inbox", "calendar", "contacts". Without it the plan's BaselineFolders
// are watched. The keys are also the keys of the stored sync states
// (org.SyncState.SyncStates).
func WithWatchFolders(keys ...string) Option {
	return watchOption{"WithWatchFolders", func(s *watchSettings) error {
		if len(keys) == 0 {
			return errors.New("impersonation: WithWatchFolders: no folder keys given")
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if !validFolderKey(k) {
				return fmt.Errorf("impersonation: WithWatchFolders: %q is not a folder key (a plan key such as contacts or a distinguished folder such as inbox)", k)
			}
			if seen[k] {
				return fmt.Errorf("impersonation: WithWatchFolders: %q is given twice", k)
			}
			seen[k] = true
		}
		s.folders = append([]string(nil), keys...)
		return nil
	}}
}

// WithWatchItemShape sets the shape of the items of Create and Update
// changes handed to the [ChangeHandler] (the SyncFolderItems ItemShape):
// default ews.ShapeIDOnly with item:ItemClass. Every property costs the
// server a read per item; bodies and attachments are never returned (fetch
// them with GetItem).
func WithWatchItemShape(shape ews.BaseShape, props []ews.FieldURI, ext []ews.ExtendedFieldURI) Option {
	return watchOption{"WithWatchItemShape", func(s *watchSettings) error {
		s.shape = shape
		s.props = append([]ews.FieldURI(nil), props...)
		s.extProps = append([]ews.ExtendedFieldURI(nil), ext...)
		return nil
	}}
}

// WithWatchStatus calls f whenever what the watcher does with a mailbox
// changes (subscribing, streaming, resyncing, retrying, failed), see
// [MailboxStatus]. Calls are serialised; a slow f slows the watcher down.
func WithWatchStatus(f func(MailboxStatus)) Option {
	return watchOption{"WithWatchStatus", func(s *watchSettings) error {
		if f == nil {
			return errors.New("impersonation: WithWatchStatus: func is nil")
		}
		s.status = f
		return nil
	}}
}

// WithPositionStore keeps the watcher's positions (sync states,
// subscription ids, watermarks) in p instead of the organization's store
// ([OrgPositions]).
func WithPositionStore(p PositionStore) Option {
	return watchOption{"WithPositionStore", func(s *watchSettings) error {
		if p == nil {
			return errors.New("impersonation: WithPositionStore: store is nil")
		}
		s.positions = p
		return nil
	}}
}

// WithSaveInterval sets how often the watcher saves the positions that
// changed (default [DefaultSaveInterval]): one save per interval at most,
// whatever the number of events, and one more when Run ends. A crash
// replays at most the changes of the last interval.
func WithSaveInterval(d time.Duration) Option {
	return watchOption{"WithSaveInterval", func(s *watchSettings) error {
		if d <= 0 {
			return fmt.Errorf("impersonation: WithSaveInterval(%s): want a positive duration", d)
		}
		s.saveInterval = d
		return nil
	}}
}

// WithWatchGrouping gives the mailboxes' Autodiscover GroupingInformation,
// by primary SMTP address, when the caller already has it (for example
// from a check's [Result].GroupingInformation); mailboxes not listed are
// grouped by the EWS URL alone. With [WithGroupingInformation] as well, the
// watcher asks Autodiscover for the ones not listed.
func WithWatchGrouping(groupingInformation map[string]string) Option {
	return watchOption{"WithWatchGrouping", func(s *watchSettings) error {
		if s.grouping == nil {
			s.grouping = make(map[string]string, len(groupingInformation))
		}
		for addr, g := range groupingInformation {
			k := org.AddressKey(addr)
			if k == "" {
				return fmt.Errorf("impersonation: WithWatchGrouping: %q is not an email address", addr)
			}
			s.grouping[k] = strings.TrimSpace(g)
		}
		return nil
	}}
}

// WithStreamTimeouts sets the ConnectionTimeout of the watcher's
// GetStreamingEvents connections (whole minutes, 1 to 30; default 30) and
// how long one may stay silent before it is presumed dead (default
// ews.DefaultStreamIdleTimeout). Zero keeps a default.
func WithStreamTimeouts(connection, idle time.Duration) Option {
	return watchOption{"WithStreamTimeouts", func(s *watchSettings) error {
		if connection < 0 || connection > ews.MaxConnectionTimeout || connection%time.Minute != 0 {
			return fmt.Errorf("impersonation: WithStreamTimeouts: connection timeout %s is not a whole number of minutes from 1 to 30", connection)
		}
		if idle < 0 {
			return fmt.Errorf("impersonation: WithStreamTimeouts: idle timeout %s is negative", idle)
		}
		s.connTimeout, s.idleTimeout = connection, idle
		return nil
	}}
}
