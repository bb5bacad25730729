package sqs

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for TestModel (0: from the clock)")

// modelMsg is the reference model's view of one message.
type modelMsg struct {
	visibleAt int64 // ms
	received  int
	receipt   string
}

// TestModel runs random sends, receives, deletes, visibility changes, clock
// steps and restarts against the server and a plain map, checking after
// every step that the counts agree and that every receive returns only
// messages the model says are visible, as many as it can. A failure prints
// the seed; rerun with -seed to reproduce.
func TestModel(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	clk := newClock()
	dir := t.TempDir()
	compact := int64(-1)
	if rng.IntN(2) == 0 {
		compact = 4096 // compaction while serving and at every restart
	}
	srv, err := New(dir, Options{Now: clk.Now, CompactBytes: compact})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Close() }()
	call := func(op string, in any) map[string]any {
		t.Helper()
		body, _ := json.Marshal(in)
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		var out map[string]any
		json.Unmarshal(w.Body.Bytes(), &out)
		if w.Code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", op, body, w.Code, w.Body)
		}
		return out
	}
	call("CreateQueue", map[string]any{"QueueName": "q", "Attributes": map[string]string{"VisibilityTimeout": "2"}})
	model := map[string]*modelMsg{}
	now := func() int64 { return clk.Now().UnixMilli() }
	for step := range 1500 {
		switch op := rng.IntN(20); {
		case op < 7:
			delay := rng.IntN(3)
			out := call("SendMessage", map[string]any{"QueueUrl": "q", "MessageBody": fmt.Sprint("m", step), "DelaySeconds": delay})
			model[out["MessageId"].(string)] = &modelMsg{visibleAt: now() + int64(delay)*1000}
		case op < 12:
			max, vt := 1+rng.IntN(10), rng.IntN(4)
			visible := 0
			for _, m := range model {
				if m.visibleAt <= now() {
					visible++
				}
			}
			out := call("ReceiveMessage", map[string]any{"QueueUrl": "q", "MaxNumberOfMessages": max, "VisibilityTimeout": vt, "WaitTimeSeconds": 0})
			msgs, _ := out["Messages"].([]any)
			if len(msgs) != min(max, visible) {
				t.Fatalf("step %d: received %d of %d visible with max %d", step, len(msgs), visible, max)
			}
			for _, x := range msgs {
				mm := x.(map[string]any)
				m := model[mm["MessageId"].(string)]
				if m == nil || m.visibleAt > now() {
					t.Fatalf("step %d: received %v, which the model has as %+v", step, mm["MessageId"], m)
				}
				m.received++
				m.visibleAt = now() + int64(vt)*1000
				m.receipt = mm["ReceiptHandle"].(string)
			}
		case op < 15:
			for id, m := range model {
				if m.receipt != "" {
					call("DeleteMessage", map[string]any{"QueueUrl": "q", "ReceiptHandle": m.receipt})
					delete(model, id)
					break
				}
			}
		case op < 16:
			for _, m := range model {
				if m.receipt != "" && m.visibleAt > now() {
					vt := rng.IntN(4)
					call("ChangeMessageVisibility", map[string]any{"QueueUrl": "q", "ReceiptHandle": m.receipt, "VisibilityTimeout": vt})
					m.visibleAt = now() + int64(vt)*1000
					break
				}
			}
		case op < 19:
			clk.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
		default:
			if err := srv.Close(); err != nil {
				t.Fatal(err)
			}
			if srv, err = New(dir, Options{Now: clk.Now, CompactBytes: compact}); err != nil {
				t.Fatalf("step %d: restart: %v", step, err)
			}
		}
		var want [3]int
		for _, m := range model {
			switch {
			case m.visibleAt <= now():
				want[0]++
			case m.received > 0:
				want[1]++
			default:
				want[2]++
			}
		}
		a := call("GetQueueAttributes", map[string]any{"QueueUrl": "q", "AttributeNames": []string{"All"}})["Attributes"].(map[string]any)
		got := fmt.Sprint(a["ApproximateNumberOfMessages"], " ", a["ApproximateNumberOfMessagesNotVisible"], " ", a["ApproximateNumberOfMessagesDelayed"])
		if w := fmt.Sprint(want[0], " ", want[1], " ", want[2]); got != w {
			t.Fatalf("step %d: counts %s, model %s", step, got, w)
		}
	}
}
