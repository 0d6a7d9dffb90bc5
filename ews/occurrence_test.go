package ews_test

import (
	"context"
	"testing"

	"github.com/sccsync/scc/ews"
)

// occurrenceCases record t:OccurrenceItemId and t:RecurringMasterItemId
// in GetItem, UpdateItem and DeleteItem.
func occurrenceCases() []opCase {
	master := ews.ItemID{ID: "AAMkMaster1=", ChangeKey: "DwAAABYA"}
	return []opCase{
		{"getitem-occurrence", "getitem.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			_, err := c.GetItem(ctx, &ews.GetItemRequest{Shape: ews.ShapeIDOnly, AdditionalProperties: []ews.FieldURI{ews.FieldCalendarIsRecurring},
				ItemIDs: []ews.ItemID{ews.OccurrenceID{Master: ews.ItemID{ID: master.ID}, Index: 3}.ItemID(), ews.RecurringMasterOf(ews.ItemID{ID: "AAMkOcc3="})}})
			must(t, err)
		}},
		{"updateitem-occurrence", "updateitem-one.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			_, err := c.UpdateItem(ctx, &ews.UpdateItemRequest{ConflictResolution: ews.AutoResolve, Changes: []ews.ItemChange{{
				ItemID: ews.OccurrenceID{Master: master, Index: 2}.ItemID(), Kind: ews.KindCalendarItem,
				Updates: []ews.ItemUpdate{ews.SetItemField(ews.FieldItemSubject, ews.Item{Subject: "moved"})}}}})
			must(t, err)
		}},
		{"deleteitem-occurrence", "deleteitem.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			_, err := c.DeleteItem(ctx, &ews.DeleteItemRequest{DeleteType: ews.MoveToDeletedItems, SendMeetingCancellations: "SendToNone",
				ItemIDs: []ews.ItemID{ews.OccurrenceID{Master: master, Index: 4}.ItemID(), ews.RecurringMasterOf(ews.ItemID{ID: "AAMkOcc3="})}})
			must(t, err)
		}},
	}
}

func TestOccurrenceIDValues(t *testing.T) {
	id := ews.OccurrenceID{Master: ews.ItemID{ID: "m", ChangeKey: "k"}, Index: 2}.ItemID()
	if o, ok := id.Occurrence(); !ok || o.Index != 2 || o.Master.ID != "m" || o.Master.ChangeKey != "k" {
		t.Errorf("Occurrence() = %+v, %v", o, ok)
	}
	if _, ok := (ews.ItemID{ID: "m"}).Occurrence(); ok {
		t.Error("a plain ItemID reports an occurrence")
	}
	if _, ok := ews.RecurringMasterOf(ews.ItemID{ID: "o"}).Occurrence(); ok {
		t.Error("RecurringMasterOf reports an occurrence")
	}
}
