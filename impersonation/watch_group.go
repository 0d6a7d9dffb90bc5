package impersonation

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// watchGroup is one affinity group: at most ews.MaxStreamingSubscriptions
// mailboxes that share GroupingInformation and EWS URL, anchored on the
// first of them in alphabetical order, watched over one
// GetStreamingEvents connection that impersonates the anchor.
type watchGroup struct {
	key       string // GroupingInformation|EWS URL, "#n" for overflow groups
	anchor    string
	anchorSID ews.ConnectingSID
	aff       *ews.AffinityGroup
	members   []*watchedMailbox
}

// groupMailboxes groups mbs as Microsoft's affinity recipe says: by
// GroupingInformation (grouping, by address key) and EWS URL, split into
// groups of at most 200 in alphabetical order of the address, each
// anchored on its first address.
func groupMailboxes(mbs []*watchedMailbox, grouping map[string]string, ewsURL string) ([]*watchGroup, error) {
	byKey := map[string][]*watchedMailbox{}
	for _, mb := range mbs {
		k := grouping[mb.key] + "|" + ewsURL
		byKey[k] = append(byKey[k], mb)
	}
	var out []*watchGroup
	for _, k := range sortedKeys(byKey) {
		members := byKey[k]
		slices.SortFunc(members, func(a, b *watchedMailbox) int { return cmp.Compare(a.key, b.key) })
		for i := 0; i < len(members); i += ews.MaxStreamingSubscriptions {
			part := members[i:min(i+ews.MaxStreamingSubscriptions, len(members))]
			g := &watchGroup{key: k, anchor: part[0].addr, anchorSID: part[0].sid, members: part}
			if i > 0 {
				g.key += "#" + strconv.Itoa(i/ews.MaxStreamingSubscriptions+1)
			}
			aff, err := ews.NewAffinityGroup(g.anchor)
			if err != nil {
				return nil, fmt.Errorf("impersonation: watcher: %w", err)
			}
			g.aff = aff
			for _, mb := range part {
				mb.group = g
			}
			out = append(out, g)
		}
	}
	return out, nil
}

// discoverGrouping asks Autodiscover for the GroupingInformation of mbs
// ([WithGroupingInformation]); a failure is logged and leaves the
// mailboxes grouped by EWS URL.
func discoverGrouping(ctx context.Context, cfg org.EmailConfiguration, mbs []*watchedMailbox, s *settings) map[string]string {
	addrs := make([]string, len(mbs))
	for i, mb := range mbs {
		addrs[i] = mb.addr
	}
	info, note := groupingInformation(ctx, cfg, addrs, s.groupingOpt)
	s.logger.Info("watcher: grouping", "autodiscover", note)
	out := make(map[string]string, len(info))
	for i, g := range info {
		if g != "" {
			out[mbs[i].key] = g
		}
	}
	return out
}
