package sqs

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHandler sends arbitrary bodies to every operation: the answer is
// always an AWS JSON body with a status below 500, never a panic.
func FuzzHandler(f *testing.F) {
	f.Add("SendMessage", `{"QueueUrl":"http://h/000000000000/q","MessageBody":"b","MessageAttributes":{"a":{"DataType":"Number","StringValue":"1"}}}`)
	f.Add("SendMessageBatch", `{"QueueUrl":"q","Entries":[{"Id":"1","MessageBody":"b","DelaySeconds":3}]}`)
	f.Add("ReceiveMessage", `{"QueueUrl":"q","MaxNumberOfMessages":10,"MessageAttributeNames":["All"],"AttributeNames":["All"]}`)
	f.Add("DeleteMessageBatch", `{"QueueUrl":"q","Entries":[{"Id":"1","ReceiptHandle":"cQBpZAAx"}]}`)
	f.Add("ChangeMessageVisibility", `{"QueueUrl":"q","ReceiptHandle":"x","VisibilityTimeout":-1}`)
	f.Add("CreateQueue", `{"QueueName":"f.fifo","Attributes":{"FifoQueue":"true","RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:r:1:q\",\"maxReceiveCount\":1}"}}`)
	f.Add("SetQueueAttributes", `{"QueueUrl":"q","Attributes":{"RedrivePolicy":"{}"}}`)
	srv, err := New(f.TempDir(), Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	call := func(op, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	call("CreateQueue", `{"QueueName":"q"}`)
	call("SendMessage", `{"QueueUrl":"q","MessageBody":"hello"}`)
	f.Fuzz(func(t *testing.T, op, body string) {
		if strings.Contains(body, "WaitTime") {
			return // long polls only slow the fuzzer down
		}
		w := call(op, body)
		if w.Code >= 500 || !strings.Contains(w.Body.String(), "{") {
			t.Errorf("%s %q: status %d %s", op, body, w.Code, w.Body)
		}
	})
}

// FuzzQuery sends arbitrary form bodies in the query protocol: never a
// panic, never a 5xx.
func FuzzQuery(f *testing.F) {
	f.Add("Action=SendMessage&QueueUrl=q&MessageBody=b&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=AQ%3D%3D")
	f.Add("Action=SendMessageBatch&QueueUrl=q&SendMessageBatchRequestEntry.1.Id=x&SendMessageBatchRequestEntry.1.MessageBody=b&SendMessageBatchRequestEntry.1.DelaySeconds=z")
	f.Add("Action=ReceiveMessage&QueueUrl=q&AttributeName.1=All&MaxNumberOfMessages=ten")
	f.Add("Action=CreateQueue&QueueName=z&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Tag.1.Key=k")
	srv, err := New(f.TempDir(), Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	call := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	call("Action=CreateQueue&QueueName=q")
	f.Fuzz(func(t *testing.T, body string) {
		if strings.Contains(body, "WaitTime") {
			return
		}
		if w := call(body); w.Code >= 500 {
			t.Errorf("%q: status %d %s", body, w.Code, w.Body)
		}
	})
}
