package sqs

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestQueryProtocol drives the form/XML protocol of older clients.
func TestQueryProtocol(t *testing.T) {
	srv, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	post := func(path string, v url.Values) (int, string) {
		t.Helper()
		v.Set("Version", "2012-11-05")
		resp, err := http.Post(hs.URL+path, "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(v.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := post("/", url.Values{"Action": {"CreateQueue"}, "QueueName": {"apps"},
		"Attribute.1.Name": {"VisibilityTimeout"}, "Attribute.1.Value": {"45"}})
	var created struct {
		QueueURL string `xml:"CreateQueueResult>QueueUrl"`
	}
	if err := xml.Unmarshal([]byte(body), &created); code != 200 || err != nil || !strings.HasSuffix(created.QueueURL, "/000000000000/apps") {
		t.Fatalf("CreateQueue = %d %s (%v)", code, body, err)
	}
	qurl := created.QueueURL

	code, body = post("/", url.Values{"Action": {"SendMessage"}, "QueueUrl": {qurl}, "MessageBody": {"derp"},
		"MessageAttribute.1.Name": {"timestamp"}, "MessageAttribute.1.Value.DataType": {"Number"}, "MessageAttribute.1.Value.StringValue": {"1493147359900"}})
	var sent struct {
		MD5Body  string `xml:"SendMessageResult>MD5OfMessageBody"`
		MD5Attrs string `xml:"SendMessageResult>MD5OfMessageAttributes"`
	}
	if err := xml.Unmarshal([]byte(body), &sent); code != 200 || err != nil || sent.MD5Body != "58fd9edd83341c29f1aebba81c31e257" || sent.MD5Attrs != "235c5c510d26fb653d073faed50ae77c" {
		t.Fatalf("SendMessage = %d %s (%v)", code, body, err)
	}
	code, body = post("/", url.Values{"Action": {"SendMessageBatch"}, "QueueUrl": {qurl},
		"SendMessageBatchRequestEntry.1.Id": {"a"}, "SendMessageBatchRequestEntry.1.MessageBody": {"one"},
		"SendMessageBatchRequestEntry.2.Id": {"b"}, "SendMessageBatchRequestEntry.2.MessageBody": {"two"},
		"SendMessageBatchRequestEntry.2.MessageAttribute.1.Name": {"k"}, "SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType": {"String"},
		"SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue": {"v"}})
	if code != 200 || strings.Count(body, "<SendMessageBatchResultEntry>") != 2 || strings.Count(body, "<MD5OfMessageAttributes>") != 1 {
		t.Fatalf("SendMessageBatch = %d %s", code, body)
	}

	// Old clients post to the queue URL itself, without QueueUrl.
	code, body = post("/000000000000/apps", url.Values{"Action": {"ReceiveMessage"}, "MaxNumberOfMessages": {"10"},
		"AttributeName.1": {"All"}, "MessageAttributeName.1": {"All"}})
	var recv struct {
		Messages []struct {
			Body    string `xml:"Body"`
			Receipt string `xml:"ReceiptHandle"`
			Attrs   []struct {
				Name  string `xml:"Name"`
				Value string `xml:"Value"`
			} `xml:"Attribute"`
			MsgAttrs []struct {
				Name string `xml:"Name"`
			} `xml:"MessageAttribute"`
		} `xml:"ReceiveMessageResult>Message"`
	}
	if err := xml.Unmarshal([]byte(body), &recv); code != 200 || err != nil || len(recv.Messages) != 3 {
		t.Fatalf("ReceiveMessage = %d %s (%v)", code, body, err)
	}
	if m := recv.Messages[0]; m.Body != "derp" || len(m.MsgAttrs) != 1 || len(m.Attrs) < 4 {
		t.Errorf("first message = %+v", m)
	}
	code, body = post("/", url.Values{"Action": {"DeleteMessage"}, "QueueUrl": {qurl}, "ReceiptHandle": {recv.Messages[0].Receipt}})
	if code != 200 || !strings.Contains(body, "<DeleteMessageResponse") {
		t.Errorf("DeleteMessage = %d %s", code, body)
	}
	code, body = post("/", url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {qurl}, "AttributeName.1": {"All"}})
	if code != 200 || !strings.Contains(body, "<Name>ApproximateNumberOfMessagesNotVisible</Name><Value>2</Value>") ||
		!strings.Contains(body, "<Name>VisibilityTimeout</Name><Value>45</Value>") {
		t.Errorf("GetQueueAttributes = %d %s", code, body)
	}
	code, body = post("/", url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"nope"}})
	var qerr struct {
		Code string `xml:"Error>Code"`
	}
	if err := xml.Unmarshal([]byte(body), &qerr); code != 400 || err != nil || qerr.Code != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("GetQueueUrl missing = %d %s", code, body)
	}
	code, body = post("/", url.Values{"Action": {"ListQueues"}})
	if code != 200 || !strings.Contains(body, "<QueueUrl>"+qurl+"</QueueUrl>") {
		t.Errorf("ListQueues = %d %s", code, body)
	}
}
