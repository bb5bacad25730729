package sqs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestCompactionWhileServing: with a small trigger the log is compacted
// in the background again and again while senders and a consumer go on;
// after a restart exactly the undeleted messages are there, once each.
func TestCompactionWhileServing(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	dir := t.TempDir()
	var compactions atomic.Int64
	log := slog.New(handlerFunc(func(r slog.Record) {
		if r.Message == "sqs log compacted" {
			compactions.Add(1)
		}
	}))
	srv, err := New(dir, Options{Now: clk.Now, CompactBytes: 8 << 10, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	c := NewClient(hs.URL, hs.Client())
	url := mustCreate(t, c, "apps", map[string]string{"VisibilityTimeout": "600"})
	const senders, each = 8, 60
	var wg sync.WaitGroup
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				body := fmt.Sprintf("m%d-%d-%s", w, i, strings.Repeat("x", 100))
				if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	deleted := 0
	for deleted < senders*each*3/4 {
		rm, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rm.Messages {
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			deleted++
		}
	}
	wg.Wait()
	hs.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	_, c = MustServe(t, dir, Options{Now: clk.Now, CompactBytes: -1})
	got := counts(t, c, url)
	visible, _ := strconv.Atoi(got[0])
	inflight, _ := strconv.Atoi(got[1])
	if visible+inflight != senders*each-deleted {
		t.Fatalf("after restart %v messages (visible, in flight, delayed), want %d in all", got, senders*each-deleted)
	}
	if compactions.Load() == 0 {
		t.Error("the log was never compacted while serving")
	}
}

// handlerFunc is a slog.Handler calling f for every record.
type handlerFunc func(slog.Record)

func (f handlerFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (f handlerFunc) Handle(_ context.Context, r slog.Record) error { f(r); return nil }
func (f handlerFunc) WithAttrs([]slog.Attr) slog.Handler            { return f }
func (f handlerFunc) WithGroup(string) slog.Handler                 { return f }
