package engine

import (
	"strings"

	"github.com/posluha/posluha/query/value"
)

// DetailsKey names the field GetExecutionHistory puts an event's details
// in: PassStateEntered → stateEnteredEventDetails, TaskScheduled →
// taskScheduledEventDetails, MapIterationStarted →
// mapIterationStartedEventDetails.
func DetailsKey(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	}
	return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
}

// jsonText fields hold JSON documents that the API carries as strings.
var jsonText = map[string]string{"input": "inputDetails", "output": "outputDetails", "parameters": ""}

// AWS renders the event as GetExecutionHistory returns it: input, output
// and parameters as JSON text with their …Details, timestamps as Unix
// seconds for the JSON protocol.
func (ev *Event) AWS() *value.Object {
	o := value.NewObject(5)
	o.Set("timestamp", float64(ev.Time.UnixMilli())/1000)
	o.Set("type", ev.Type)
	o.Set("id", float64(ev.ID))
	o.Set("previousEventId", float64(ev.PreviousID))
	if ev.Details == nil {
		return o
	}
	d := value.NewObject(ev.Details.Len() + 2)
	for _, m := range ev.Details.Members() {
		if det, ok := jsonText[m.Key]; ok {
			d.Set(m.Key, value.String(m.Value))
			if det != "" {
				d.Set(det, value.ObjectOf("truncated", false))
			}
			continue
		}
		if m.Key == "assignedVariables" {
			av := value.NewObject(0)
			if vars, ok := m.Value.(*value.Object); ok {
				for _, v := range vars.Members() {
					av.Set(v.Key, value.String(v.Value))
				}
			}
			d.Set(m.Key, av)
			d.Set("assignedVariablesDetails", value.ObjectOf("truncated", false))
			continue
		}
		d.Set(m.Key, m.Value)
	}
	o.Set(DetailsKey(ev.Type), d)
	return o
}
