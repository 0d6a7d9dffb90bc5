package scctest

import (
	"fmt"

	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// DefaultMaxAttachmentSize is the largest attachment the server accepts
// unless [WithMaxAttachmentSize] says otherwise: 35 MB, Exchange Online's
// default MaxSendSize. Larger ones fail with
// ErrorAttachmentSizeLimitExceeded.
const DefaultMaxAttachmentSize = mbx.DefaultMaxAttachmentSize

// WithMaxAttachmentSize sets the largest attachment in bytes (default
// [DefaultMaxAttachmentSize]); CreateAttachment of a larger one fails with
// ErrorAttachmentSizeLimitExceeded. An item may hold 1 MB more than the
// limit (at least Exchange Online's 36 MB MaxReceiveSize), else
// ErrorMessageSizeExceeded. n must be positive.
func WithMaxAttachmentSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("scctest: WithMaxAttachmentSize(%d): the limit must be positive", n)
		}
		c.maxAttach = n
		return nil
	}
}

// storeOptions are the mailbox model's options for the configuration.
func (c *config) storeOptions() mbx.Options {
	o := mbx.Options{Now: c.now, MaxAttachmentSize: c.maxAttach}
	if c.maxAttach > 0 {
		o.MaxItemSize = max(mbx.DefaultMaxItemSize, c.maxAttach+1<<20)
	}
	return o
}
