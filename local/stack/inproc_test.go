package stack

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestInProcessTransport(t *testing.T) {
	edge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Target", r.Header.Get("X-Amz-Target"))
		w.Header().Set("X-Length", r.Header.Get("Content-Length"))
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, r.Method+" "+r.RequestURI+" "+r.Host+" "+string(b))
	})
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "network") }))
	defer other.Close()
	c := &http.Client{Transport: &inProcess{host: "127.0.0.1:4566", handler: func() http.Handler { return edge }, next: http.DefaultTransport}}

	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/q?x=1", strings.NewReader("body"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || string(b) != "POST /q?x=1 127.0.0.1:4566 body" ||
		resp.Header.Get("X-Length") != "4" || req.Header.Get("Content-Length") != "" || resp.ContentLength != int64(len(b)) {
		t.Fatalf("in-process answer: %d %q %v", resp.StatusCode, b, resp.Header)
	}

	// A JSON-protocol call reaches the handler with its headers.
	req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Target") != "DynamoDB_20120810.PutItem" {
		t.Fatalf("target header: %v", resp.Header)
	}

	// Another host takes the network.
	resp, err = c.Get(other.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "network" {
		t.Fatalf("other host: %q", b)
	}

	// A panicking handler is a transport error, not a crash.
	if _, err := c.Get("http://127.0.0.1:4566/panic"); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("panic: %v", err)
	}
}
