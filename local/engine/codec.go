package engine

import (
	"fmt"
	"strconv"
	"time"

	"github.com/posluha/posluha/query/value"
)

// The byte form of records and events is JSON with the field names
// encoding/json gives them, so records written by earlier versions (every
// field present, zero or not) read the same. It is written and read by hand:
// zero fields are left out (a parked execution's record shrinks to about a
// third), and neither direction goes through reflection, which made
// encoding/json most of a durable checkpoint's CPU. Readers accept what
// encoding/json wrote and ignore fields they do not know.

// EncodeExecution gives stores a stable byte form of x (see DecodeExecution).
func EncodeExecution(x *Execution) ([]byte, error) {
	return AppendExecution(make([]byte, 0, 512), x), nil
}

// AppendExecution appends EncodeExecution's form of x to b.
func AppendExecution(b []byte, x *Execution) []byte {
	w := objWriter{b: append(b, '{')}
	w.str("ARN", x.ARN)
	w.str("Name", x.Name)
	w.str("MachineARN", x.MachineARN)
	w.int("Version", int64(x.Version))
	w.bool("Express", x.Express)
	w.str("Status", x.Status)
	w.val("Input", x.Input)
	w.val("Output", x.Output)
	w.bool("HasOutput", x.HasOutput)
	w.str("Error", x.Error)
	w.str("Cause", x.Cause)
	w.bool("HasError", x.HasError)
	w.bool("HasCause", x.HasCause)
	w.time("StartTime", x.StartTime)
	w.time("StopTime", x.StopTime)
	w.time("Deadline", x.Deadline)
	w.int("RedriveCount", int64(x.RedriveCount))
	w.time("RedriveTime", x.RedriveTime)
	w.str("Salt", x.Salt)
	w.str("ParentToken", x.ParentToken)
	w.str("TraceHeader", x.TraceHeader)
	if x.Root != nil {
		w.key("Root")
		w.b = appendThread(w.b, x.Root)
	}
	w.int("LastEventID", x.LastEventID)
	w.time("WakeAt", x.WakeAt)
	if x.Tokens != nil {
		w.key("Tokens")
		w.b = appendStrings(w.b, x.Tokens)
	}
	w.bool("Parked", x.Parked)
	return append(w.b, '}')
}

func appendThread(b []byte, t *Thread) []byte {
	w := objWriter{b: append(b, '{')}
	w.str("ID", t.ID)
	w.str("State", t.State)
	w.val("Input", t.Input)
	w.int("Entered", t.Entered)
	w.time("EnteredTime", t.EnteredTime)
	w.int("Last", t.Last)
	w.int("Steps", int64(t.Steps))
	w.str("Phase", t.Phase)
	if t.Retries != nil {
		w.key("Retries")
		w.b = append(w.b, '[')
		for i, n := range t.Retries {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = strconv.AppendInt(w.b, int64(n), 10)
		}
		w.b = append(w.b, ']')
	}
	w.int("RetryCount", int64(t.RetryCount))
	w.time("WaitUntil", t.WaitUntil)
	if tr := t.Task; tr != nil {
		w.key("Task")
		tw := objWriter{b: append(w.b, '{')}
		tw.str("Token", tr.Token)
		tw.str("Resource", tr.Resource)
		tw.bool("Lambda", tr.Lambda)
		tw.time("Deadline", tr.Deadline)
		tw.int("Heartbeat", int64(tr.Heartbeat))
		tw.time("HeartbeatAt", tr.HeartbeatAt)
		tw.bool("Done", tr.Done)
		tw.val("Result", tr.Result)
		tw.bool("Failed", tr.Failed)
		tw.str("Error", tr.Error)
		tw.str("Cause", tr.Cause)
		w.b = append(tw.b, '}')
	}
	if t.Children != nil {
		w.key("Children")
		w.b = append(w.b, '[')
		for i, c := range t.Children {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			if c == nil {
				w.b = append(w.b, "null"...)
				continue
			}
			w.b = appendThread(w.b, c)
		}
		w.b = append(w.b, ']')
	}
	w.int("MaxConc", int64(t.MaxConc))
	w.int("TolCount", int64(t.TolCount))
	if t.TolPercent != 0 {
		w.key("TolPercent")
		w.b = value.AppendNumber(w.b, t.TolPercent)
	}
	if t.Vars != nil {
		w.key("Vars")
		w.b = value.Append(w.b, t.Vars)
	}
	w.int("Index", int64(t.Index))
	w.bool("Started", t.Started)
	w.bool("Done", t.Done)
	w.bool("Failed", t.Failed)
	w.bool("Aborted", t.Aborted)
	w.val("Output", t.Output)
	w.str("Error", t.Error)
	w.str("Cause", t.Cause)
	w.bool("NoError", t.NoError)
	w.bool("NoCause", t.NoCause)
	w.bool("Quiet", t.Quiet)
	return append(w.b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = value.AppendString(b, s)
	}
	return append(b, ']')
}

// objWriter appends the members of a JSON object, leaving zero values out.
type objWriter struct {
	b []byte
	n int
}

func (w *objWriter) key(k string) {
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = append(w.b, '"')
	w.b = append(w.b, k...) // field names need no escaping
	w.b = append(w.b, '"', ':')
}

func (w *objWriter) str(k, s string) {
	if s != "" {
		w.key(k)
		w.b = value.AppendString(w.b, s)
	}
}

func (w *objWriter) int(k string, n int64) {
	if n != 0 {
		w.key(k)
		w.b = strconv.AppendInt(w.b, n, 10)
	}
}

func (w *objWriter) bool(k string, v bool) {
	if v {
		w.key(k)
		w.b = append(w.b, "true"...)
	}
}

func (w *objWriter) time(k string, t time.Time) {
	if !t.IsZero() {
		w.key(k)
		w.b = append(w.b, '"')
		w.b = t.AppendFormat(w.b, time.RFC3339Nano)
		w.b = append(w.b, '"')
	}
}

// val writes a value unless it is null (absent reads back as null).
func (w *objWriter) val(k string, v Value) {
	if v.V != nil {
		w.key(k)
		w.b = value.Append(w.b, v.V)
	}
}

// DecodeExecution reads what EncodeExecution (or encoding/json, before)
// wrote.
func DecodeExecution(b []byte) (*Execution, error) {
	return decodeExecution(b, true)
}

// DecodeExecutionSummary is DecodeExecution without the thread tree (Root
// is nil): listings need the status, not the position.
func DecodeExecutionSummary(b []byte) (*Execution, error) {
	return decodeExecution(b, false)
}

func decodeExecution(b []byte, withRoot bool) (*Execution, error) {
	v, err := value.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("decode execution: %w", err)
	}
	o, ok := v.(*value.Object)
	if !ok {
		return nil, fmt.Errorf("decode execution: %s, not an object", value.TypeName(v))
	}
	var x Execution
	r := objReader{}
	for _, m := range o.Members() {
		r.at = m.Key
		switch m.Key {
		case "ARN":
			x.ARN = r.str(m.Value)
		case "Name":
			x.Name = r.str(m.Value)
		case "MachineARN":
			x.MachineARN = r.str(m.Value)
		case "Version":
			x.Version = int(r.int(m.Value))
		case "Express":
			x.Express = r.bool(m.Value)
		case "Status":
			x.Status = r.str(m.Value)
		case "Input":
			x.Input = Value{m.Value}
		case "Output":
			x.Output = Value{m.Value}
		case "HasOutput":
			x.HasOutput = r.bool(m.Value)
		case "Error":
			x.Error = r.str(m.Value)
		case "Cause":
			x.Cause = r.str(m.Value)
		case "HasError":
			x.HasError = r.bool(m.Value)
		case "HasCause":
			x.HasCause = r.bool(m.Value)
		case "StartTime":
			x.StartTime = r.time(m.Value)
		case "StopTime":
			x.StopTime = r.time(m.Value)
		case "Deadline":
			x.Deadline = r.time(m.Value)
		case "RedriveCount":
			x.RedriveCount = int(r.int(m.Value))
		case "RedriveTime":
			x.RedriveTime = r.time(m.Value)
		case "Salt":
			x.Salt = r.str(m.Value)
		case "ParentToken":
			x.ParentToken = r.str(m.Value)
		case "TraceHeader":
			x.TraceHeader = r.str(m.Value)
		case "Root":
			if withRoot {
				x.Root = r.thread(m.Value)
			}
		case "LastEventID":
			x.LastEventID = r.int(m.Value)
		case "WakeAt":
			x.WakeAt = r.time(m.Value)
		case "Tokens":
			x.Tokens = r.strings(m.Value)
		case "Parked":
			x.Parked = r.bool(m.Value)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("decode execution %s: %w", x.ARN, r.err)
	}
	return &x, nil
}

// objReader converts members, keeping the first error.
type objReader struct {
	at  string // the member being read, for the error
	err error
}

func (r *objReader) fail(want string, v any) {
	if r.err == nil {
		r.err = fmt.Errorf("field %s: want %s, got %s", r.at, want, value.TypeName(v))
	}
}

func (r *objReader) str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return ""
	}
	r.fail("a string", v)
	return ""
}

func (r *objReader) int(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case nil:
		return 0
	}
	r.fail("a number", v)
	return 0
}

func (r *objReader) float(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case nil:
		return 0
	}
	r.fail("a number", v)
	return 0
}

func (r *objReader) bool(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case nil:
		return false
	}
	r.fail("a boolean", v)
	return false
}

func (r *objReader) time(v any) time.Time {
	s, ok := v.(string)
	if !ok {
		if v != nil {
			r.fail("a time", v)
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("field %s: %w", r.at, err)
	}
	return t
}

func (r *objReader) strings(v any) []string {
	a, ok := v.([]any)
	if !ok {
		if v != nil {
			r.fail("an array", v)
		}
		return nil
	}
	out := make([]string, len(a))
	for i, e := range a {
		out[i] = r.str(e)
	}
	return out
}

func (r *objReader) thread(v any) *Thread {
	o, ok := v.(*value.Object)
	if !ok {
		if v != nil {
			r.fail("a thread", v)
		}
		return nil
	}
	var t Thread
	for _, m := range o.Members() {
		r.at = m.Key
		switch m.Key {
		case "ID":
			t.ID = r.str(m.Value)
		case "State":
			t.State = r.str(m.Value)
		case "Input":
			t.Input = Value{m.Value}
		case "Entered":
			t.Entered = r.int(m.Value)
		case "EnteredTime":
			t.EnteredTime = r.time(m.Value)
		case "Last":
			t.Last = r.int(m.Value)
		case "Steps":
			t.Steps = int(r.int(m.Value))
		case "Phase":
			t.Phase = r.str(m.Value)
		case "Retries":
			if a, ok := m.Value.([]any); ok {
				t.Retries = make([]int, len(a))
				for i, e := range a {
					t.Retries[i] = int(r.int(e))
				}
			} else if m.Value != nil {
				r.fail("an array", m.Value)
			}
		case "RetryCount":
			t.RetryCount = int(r.int(m.Value))
		case "WaitUntil":
			t.WaitUntil = r.time(m.Value)
		case "Task":
			t.Task = r.task(m.Value)
		case "Children":
			if a, ok := m.Value.([]any); ok {
				t.Children = make([]*Thread, len(a))
				for i, e := range a {
					if e == nil {
						r.fail("a thread", e) // the interpreter walks children without nil checks
					}
					t.Children[i] = r.thread(e)
				}
			} else if m.Value != nil {
				r.fail("an array", m.Value)
			}
		case "MaxConc":
			t.MaxConc = int(r.int(m.Value))
		case "TolCount":
			t.TolCount = int(r.int(m.Value))
		case "TolPercent":
			t.TolPercent = r.float(m.Value)
		case "Vars":
			if vars, ok := m.Value.(*value.Object); ok {
				t.Vars = vars
			} else if m.Value != nil {
				r.fail("an object", m.Value)
			}
		case "Index":
			t.Index = int(r.int(m.Value))
		case "Started":
			t.Started = r.bool(m.Value)
		case "Done":
			t.Done = r.bool(m.Value)
		case "Failed":
			t.Failed = r.bool(m.Value)
		case "Aborted":
			t.Aborted = r.bool(m.Value)
		case "Output":
			t.Output = Value{m.Value}
		case "Error":
			t.Error = r.str(m.Value)
		case "Cause":
			t.Cause = r.str(m.Value)
		case "NoError":
			t.NoError = r.bool(m.Value)
		case "NoCause":
			t.NoCause = r.bool(m.Value)
		case "Quiet":
			t.Quiet = r.bool(m.Value)
		}
	}
	return &t
}

func (r *objReader) task(v any) *TaskRun {
	o, ok := v.(*value.Object)
	if !ok {
		if v != nil {
			r.fail("a task", v)
		}
		return nil
	}
	var tr TaskRun
	for _, m := range o.Members() {
		r.at = m.Key
		switch m.Key {
		case "Token":
			tr.Token = r.str(m.Value)
		case "Resource":
			tr.Resource = r.str(m.Value)
		case "Lambda":
			tr.Lambda = r.bool(m.Value)
		case "Deadline":
			tr.Deadline = r.time(m.Value)
		case "Heartbeat":
			tr.Heartbeat = time.Duration(r.int(m.Value))
		case "HeartbeatAt":
			tr.HeartbeatAt = r.time(m.Value)
		case "Done":
			tr.Done = r.bool(m.Value)
		case "Result":
			tr.Result = Value{m.Value}
		case "Failed":
			tr.Failed = r.bool(m.Value)
		case "Error":
			tr.Error = r.str(m.Value)
		case "Cause":
			tr.Cause = r.str(m.Value)
		}
	}
	return &tr
}

// AppendEvent appends an event's stored form (Event.MarshalJSON's).
func AppendEvent(b []byte, e *Event) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = append(b, `,"previousEventId":`...)
	b = strconv.AppendInt(b, e.PreviousID, 10)
	b = append(b, `,"timestamp":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","type":`...)
	b = value.AppendString(b, e.Type)
	b = append(b, `,"details":`...)
	if e.Details == nil {
		b = append(b, "null"...)
	} else {
		b = value.Append(b, e.Details)
	}
	return append(b, '}')
}

// DecodeEvent reads what AppendEvent (or Event.MarshalJSON) wrote.
func DecodeEvent(b []byte) (Event, error) {
	v, err := value.Parse(b)
	if err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	o, ok := v.(*value.Object)
	if !ok {
		return Event{}, fmt.Errorf("decode event: %s, not an object", value.TypeName(v))
	}
	var e Event
	r := objReader{}
	for _, m := range o.Members() {
		r.at = m.Key
		switch m.Key {
		case "id":
			e.ID = r.int(m.Value)
		case "previousEventId":
			e.PreviousID = r.int(m.Value)
		case "timestamp":
			e.Time = r.time(m.Value)
		case "type":
			e.Type = r.str(m.Value)
		case "details":
			e.Details, _ = m.Value.(*value.Object)
		}
	}
	if r.err != nil {
		return Event{}, fmt.Errorf("decode event %d: %w", e.ID, r.err)
	}
	return e, nil
}
