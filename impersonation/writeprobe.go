package impersonation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sccsync/scc/ews"
)

// writeProbeSubjectPrefix starts the subject of every test message, so an
// admin can find one that could not be deleted.
const writeProbeSubjectPrefix = "scc write probe"

// cleanupTimeout bounds deleting a test message after the run was stopped
// or cancelled: a created item is deleted even then.
const cleanupTimeout = 30 * time.Second

// testMessage is the CreateItem request of the write probe and of
// Diagnose's write test: a text message saved in Drafts, with a random
// subject (returned) that starts with writeProbeSubjectPrefix, so an admin
// can find one that could not be deleted.
func testMessage(body string) (subject string, req *ews.CreateItemRequest) {
	subject = fmt.Sprintf("%s %016x (safe to delete)", writeProbeSubjectPrefix, rand.Uint64())
	drafts := ews.DistinguishedFolder(ews.FolderDrafts)
	return subject, &ews.CreateItemRequest{
		SavedItemFolderID:  &drafts,
		MessageDisposition: ews.SaveOnly,
		Messages:           []ews.Message{{Subject: subject, Body: ews.Body{Type: ews.BodyText, Content: body}}},
	}
}

// writeProbe creates a test message in the user's Drafts folder (SaveOnly)
// and hard-deletes it. It updates res: WriteProbe always, and Status, Code,
// Message and Remediation when the probe failed.
func (r *run) writeProbe(ctx context.Context, view *ews.Client, res *Result) {
	subject, req := testMessage("Test message of the scc impersonation check; it is deleted right away.")
	var created ews.ItemID
	a := r.do(ctx, r.s.budget.MaxAttempts, false, func(ctx context.Context) error {
		resp, err := view.CreateItem(ctx, req)
		if err != nil {
			return err
		}
		if len(resp.Results) == 0 {
			return errors.New("impersonation: CreateItem answered without a result")
		}
		if resp.Results[0].Err != nil {
			return resp.Results[0].Err
		}
		created = resp.Results[0].ItemID
		return nil
	})

	// From here on, use a context that survives the run being stopped:
	// a test message must not be left behind.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()

	if a.status != StatusOK || a.cancelled {
		if a.maybeSent || a.cancelled {
			// The message may exist: look for it and delete it.
			left, err := r.deleteBySubject(cctx, view, subject)
			switch {
			case err != nil:
				r.writeLeft(res, subject, a.code, fmt.Sprintf("write probe: the test message may have been created, and looking for it failed: %v", err))
				return
			case left:
				r.writeLeft(res, subject, "", "write probe: the test message was created but could not be deleted")
				return
			}
		}
		if a.cancelled {
			r.notChecked(ctx, res)
			res.WriteProbe = WriteProbeNotRun
			return
		}
		res.WriteProbe = WriteProbeFailed
		res.Status, res.Code = a.status, a.code
		res.Message = "write probe: creating a test message in Drafts failed: " + a.message
		res.Remediation = r.remediationFor(a, res.IdentityKind, res.Address)
		if a.status == StatusError {
			res.Remediation = "The service account can read this mailbox but not create items in it. On-premises, ApplicationImpersonation gives full access: check for a deny permission on the mailbox or its Drafts folder (Get-MailboxFolderPermission <mailbox>:\\Drafts) and retention or litigation settings. " + res.Remediation
		}
		return
	}

	d := r.deleteItem(cctx, view, created)
	if d.status != StatusOK {
		r.writeLeft(res, subject, d.code, "write probe: the test message was created but deleting it failed: "+d.message)
		return
	}
	res.WriteProbe = WriteProbePassed
}

// deleteItem hard-deletes one item, retrying within the budget. After an
// ambiguous attempt, ErrorItemNotFound means the item is gone.
func (r *run) deleteItem(ctx context.Context, view *ews.Client, id ews.ItemID) attempt {
	tries := 0
	return r.do(ctx, r.s.budget.MaxAttempts, true, func(ctx context.Context) error {
		tries++
		resp, err := view.DeleteItem(ctx, &ews.DeleteItemRequest{ItemIDs: []ews.ItemID{id}, DeleteType: ews.HardDelete})
		if err != nil {
			return err
		}
		if len(resp.Results) == 0 {
			return errors.New("impersonation: DeleteItem answered without a result")
		}
		if err := resp.Results[0].Err; err != nil {
			if tries > 1 && errors.Is(err, ews.ErrorItemNotFound) {
				return nil
			}
			return err
		}
		return nil
	})
}

// deleteBySubject deletes every message in Drafts with the given subject.
// It reports whether one was found but could not be deleted.
func (r *run) deleteBySubject(ctx context.Context, view *ews.Client, subject string) (left bool, err error) {
	var ids []ews.ItemID
	a := r.do(ctx, r.s.budget.MaxAttempts, true, func(ctx context.Context) error {
		ids = ids[:0]
		req := &ews.FindItemRequest{
			ParentFolderIDs:      []ews.FolderID{ews.DistinguishedFolder(ews.FolderDrafts)},
			AdditionalProperties: []ews.FieldURI{ews.FieldItemSubject},
		}
		for it, err := range view.Items(ctx, req) {
			if err != nil {
				return err
			}
			if it.Subject == subject {
				ids = append(ids, it.ItemID)
			}
		}
		return nil
	})
	if a.status != StatusOK || a.cancelled {
		if a.message == "" {
			a.message = "cancelled"
		}
		return false, errors.New(a.message)
	}
	for _, id := range ids {
		if d := r.deleteItem(ctx, view, id); d.status != StatusOK {
			return true, nil
		}
	}
	return false, nil
}

// writeLeft records that a test message may remain in the mailbox.
func (r *run) writeLeft(res *Result, subject string, code ews.ResponseCode, msg string) {
	res.WriteProbe = WriteProbeItemLeft
	res.Status = StatusError
	res.Code = code
	res.Message = msg
	res.Remediation = fmt.Sprintf("Delete the message %q from the mailbox's Drafts folder (it is harmless), then check that the service account may delete items in this mailbox.", subject)
}
