package engine

import (
	"context"
	"testing"
	"time"
)

// FuzzParse: any definition either fails validation or runs without a
// panic (with a virtual clock, tasks failing at once).
func FuzzParse(f *testing.F) {
	f.Add(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`, `{}`)
	f.Add(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringMatches":"a*","Next":"E"}],"Default":"E"},"E":{"Type":"Succeed"}}}`, `{"a":"ab"}`)
	f.Add(`{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% [1,2] %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, `{}`)
	f.Add(`{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","Next":"F"},"F":{"Type":"Fail","ErrorPath":"$.e"}}}`, `{"s":1,"e":"x"}`)
	f.Fuzz(func(t *testing.T, def, input string) {
		if _, err := Parse([]byte(def)); err != nil {
			return
		}
		store := NewMemStore()
		e := New(Config{Store: store, Clock: NewVirtualClock(t0), AutoAdvance: true})
		if err := e.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		sm, err := e.CreateMachine(ctx, CreateMachineInput{Name: "f", Definition: def})
		if err != nil {
			return
		}
		x, err := e.StartExecution(ctx, StartInput{MachineARN: sm.ARN, Input: input})
		if err != nil {
			return
		}
		_, _ = e.AwaitSettled(ctx, x.ARN)
	})
}
