package ews

import (
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// TaskStatus is the status of a task (t:Status).
type TaskStatus string

// The task statuses.
const (
	TaskNotStarted      TaskStatus = "NotStarted"
	TaskInProgress      TaskStatus = "InProgress"
	TaskCompleted       TaskStatus = "Completed"
	TaskWaitingOnOthers TaskStatus = "WaitingOnOthers"
	TaskDeferred        TaskStatus = "Deferred"
)

// Task holds the fields of a task (t:Task) beyond those of every item.
// Exchange treats StartDate and DueDate as dates. Setting PercentComplete to
// 100, Status to TaskCompleted or CompleteDate are equivalent; complete a
// task through Status.
type Task struct {
	CompleteDate time.Time
	DueDate      time.Time
	// IsComplete and IsRecurring are read-only.
	IsComplete  bool
	IsRecurring bool
	// PercentComplete is 0 to 100; CreateItem sends it when it is not 0.
	PercentComplete float64
	// Recurrence makes the task recurring (task:Recurrence).
	Recurrence *Recurrence
	StartDate  time.Time
	Status     TaskStatus
	// StatusDescription and Owner are read-only.
	StatusDescription string
	Owner             string
}

// Task properties.
const (
	FieldTaskCompleteDate      FieldURI = "task:CompleteDate"
	FieldTaskDueDate           FieldURI = "task:DueDate"
	FieldTaskIsComplete        FieldURI = "task:IsComplete"
	FieldTaskPercentComplete   FieldURI = "task:PercentComplete"
	FieldTaskRecurrence        FieldURI = "task:Recurrence"
	FieldTaskStartDate         FieldURI = "task:StartDate"
	FieldTaskStatus            FieldURI = "task:Status"
	FieldTaskStatusDescription FieldURI = "task:StatusDescription"
	FieldTaskOwner             FieldURI = "task:Owner"
)

func (t *Task) write(w *itemWriter, e *etree.Element) {
	w.dateTime(e, FieldTaskCompleteDate, "CompleteDate", t.CompleteDate)
	w.dateTime(e, FieldTaskDueDate, "DueDate", t.DueDate)
	if w.err == nil && w.field(FieldTaskPercentComplete, t.PercentComplete != 0) {
		if !(t.PercentComplete >= 0 && t.PercentComplete <= 100) {
			w.fail(invalidf("%s: %s.PercentComplete %v is outside 0..100", w.op, w.where, t.PercentComplete))
			return
		}
		e.CreateElement("t:PercentComplete").SetText(strconv.FormatFloat(t.PercentComplete, 'f', -1, 64))
	}
	if w.err == nil && w.field(FieldTaskRecurrence, t.Recurrence != nil) {
		if t.Recurrence == nil {
			w.fail(invalidf("%s: %s.Recurrence is nil; delete task:Recurrence to end the series", w.op, w.where))
			return
		}
		w.fail(t.Recurrence.write(w.op, w.where+".Recurrence", e))
	}
	w.dateTime(e, FieldTaskStartDate, "StartDate", t.StartDate)
	w.enum(e, FieldTaskStatus, "Status", string(t.Status), "NotStarted", "InProgress", "Completed", "WaitingOnOthers", "Deferred")
}

func (t *Task) parseField(e *etree.Element) {
	switch e.Tag {
	case "CompleteDate":
		t.CompleteDate = parseTime(e.Text())
	case "DueDate":
		t.DueDate = parseTime(e.Text())
	case "IsComplete":
		t.IsComplete = parseBool(e.Text())
	case "IsRecurring":
		t.IsRecurring = parseBool(e.Text())
	case "PercentComplete":
		t.PercentComplete, _ = strconv.ParseFloat(strings.TrimSpace(e.Text()), 64)
	case "Recurrence":
		t.Recurrence = parseRecurrence(e)
	case "StartDate":
		t.StartDate = parseTime(e.Text())
	case "Status":
		t.Status = TaskStatus(strings.TrimSpace(e.Text()))
	case "StatusDescription":
		t.StatusDescription = strings.TrimSpace(e.Text())
	case "Owner":
		t.Owner = strings.TrimSpace(e.Text())
	}
}
