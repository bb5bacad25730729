package sqs

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// This file speaks the older query protocol (form-encoded Action=…
// requests, XML answers) still used by aws-sdk-go v1, older CLIs and boto.
// Requests are translated into the JSON protocol's input shape and served
// by the same code; answers are translated back.

const queryNS = "http://queue.amazonaws.com/doc/2012-11-05/"

// isQuery reports whether r uses the query protocol.
func isQuery(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	ct := r.Header.Get("Content-Type")
	return r.Method == http.MethodGet || strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeQueryError(w, errf("InvalidParameterValue", "request body unreadable or larger than %d bytes", maxBody))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeQueryError(w, errf("InvalidParameterValue", "malformed form body: %v", err))
		return
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	action := form.Get("Action")
	if action == "" {
		writeQueryError(w, errf("MissingAction", "the request must contain the parameter Action"))
		return
	}
	in := queryInput(form)
	if _, ok := in["QueueUrl"]; !ok && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 1 {
		// Old clients post to the queue URL itself.
		in["QueueUrl"] = r.URL.Path
	}
	b, err := json.Marshal(in)
	if err != nil {
		writeQueryError(w, errf("InvalidParameterValue", "%v", err))
		return
	}
	base := s.opts.BaseURL
	if base == "" {
		base = "http://" + r.Host
	}
	c := &call{s: s, ctx: r.Context(), base: strings.TrimSuffix(base, "/"), body: b}
	out, aerr := c.dispatch(action)
	if aerr != nil {
		writeQueryError(w, aerr)
		return
	}
	// Round-trip through JSON so every result is a plain map to render.
	var res map[string]any
	raw, _ := json.Marshal(out)
	json.Unmarshal(raw, &res)
	var x strings.Builder
	fmt.Fprintf(&x, `<?xml version="1.0"?><%sResponse xmlns="%s"><%sResult>`, action, queryNS, action)
	renderResult(&x, action, res)
	fmt.Fprintf(&x, `</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, action, newID(), action)
	w.Header().Set("Content-Type", "text/xml")
	io.WriteString(w, x.String())
}

func writeQueryError(w http.ResponseWriter, e *apiErr) {
	var x strings.Builder
	x.WriteString(`<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>`)
	xml.EscapeText(&x, []byte(e.query))
	x.WriteString(`</Code><Message>`)
	xml.EscapeText(&x, []byte(e.msg))
	fmt.Fprintf(&x, `</Message><Detail/></Error><RequestId>%s</RequestId></ErrorResponse>`, newID())
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	io.WriteString(w, x.String())
}

// indexed collects "<prefix>.<n>.<rest>" form keys into per-n value maps,
// ordered by n.
func indexed(form url.Values, prefix string) []map[string]string {
	byN := map[int]map[string]string{}
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		num, sub, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		if byN[n] == nil {
			byN[n] = map[string]string{}
		}
		byN[n][sub] = v[0]
	}
	ns := make([]int, 0, len(byN))
	for n := range byN {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	out := make([]map[string]string, len(ns))
	for i, n := range ns {
		out[i] = byN[n]
	}
	return out
}

// messageAttrs turns "MessageAttribute.N.Name/Value.*" entries (from m,
// keys already stripped of any outer prefix) into the JSON shape.
func messageAttrs(entries []map[string]string) map[string]any {
	if len(entries) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, e := range entries {
		a := map[string]any{"DataType": e["Value.DataType"]}
		if v, ok := e["Value.StringValue"]; ok {
			a["StringValue"] = v
		}
		if v, ok := e["Value.BinaryValue"]; ok {
			a["BinaryValue"] = v // base64 on both protocols
		}
		out[e["Name"]] = a
	}
	return out
}

// subIndexed is indexed over a map already holding one entry's fields.
func subIndexed(fields map[string]string, prefix string) []map[string]string {
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	return indexed(form, prefix)
}

var queryInts = map[string]bool{"DelaySeconds": true, "MaxNumberOfMessages": true, "VisibilityTimeout": true, "WaitTimeSeconds": true, "MaxResults": true}

// queryInput builds the JSON protocol's input from query parameters.
func queryInput(form url.Values) map[string]any {
	in := map[string]any{}
	for _, k := range []string{"QueueUrl", "QueueName", "MessageBody", "ReceiptHandle", "MessageGroupId", "MessageDeduplicationId",
		"QueueNamePrefix", "NextToken", "SourceArn", "DestinationArn", "TaskHandle", "DelaySeconds", "MaxNumberOfMessages", "VisibilityTimeout", "WaitTimeSeconds", "MaxResults"} {
		if v, ok := form[k]; ok {
			if queryInts[k] {
				n, err := strconv.Atoi(v[0])
				if err != nil {
					in[k] = v[0] // let the JSON decoder report the type error
					continue
				}
				in[k] = n
			} else {
				in[k] = v[0]
			}
		}
	}
	if a := indexed(form, "Attribute"); len(a) > 0 {
		m := map[string]string{}
		for _, e := range a {
			m[e["Name"]] = e["Value"]
		}
		in["Attributes"] = m
	}
	list := func(prefix string) []string {
		var out []string
		for _, e := range indexed(form, prefix) {
			out = append(out, e[""])
		}
		return out
	}
	if l := list("AttributeName"); l != nil {
		in["AttributeNames"] = l
	}
	if l := list("MessageAttributeName"); l != nil {
		in["MessageAttributeNames"] = l
	}
	if l := list("MessageSystemAttributeName"); l != nil {
		in["MessageSystemAttributeNames"] = l
	}
	if l := list("TagKey"); l != nil {
		in["TagKeys"] = l
	}
	if t := indexed(form, "Tag"); len(t) > 0 {
		m := map[string]string{}
		for _, e := range t {
			m[e["Key"]] = e["Value"]
		}
		in["Tags"] = m
	}
	if ma := messageAttrs(indexed(form, "MessageAttribute")); ma != nil {
		in["MessageAttributes"] = ma
	}
	for _, prefix := range []string{"SendMessageBatchRequestEntry", "DeleteMessageBatchRequestEntry", "ChangeMessageVisibilityBatchRequestEntry"} {
		entries := indexed(form, prefix)
		if len(entries) == 0 {
			continue
		}
		var out []map[string]any
		for _, e := range entries {
			je := map[string]any{}
			for k, v := range e {
				if strings.Contains(k, ".") {
					continue
				}
				if queryInts[k] {
					n, _ := strconv.Atoi(v)
					je[k] = n
				} else {
					je[k] = v
				}
			}
			if ma := messageAttrs(subIndexed(e, "MessageAttribute")); ma != nil {
				je["MessageAttributes"] = ma
			}
			out = append(out, je)
		}
		in["Entries"] = out
	}
	return in
}

// renderResult writes the XML result elements for action's JSON result.
func renderResult(x *strings.Builder, action string, res map[string]any) {
	el := func(name string, v any) {
		if v == nil {
			return
		}
		s := fmt.Sprint(v)
		if s == "" {
			return
		}
		fmt.Fprintf(x, "<%s>", name)
		xml.EscapeText(x, []byte(s))
		fmt.Fprintf(x, "</%s>", name)
	}
	nameValues := func(tag string, m any) {
		mm, _ := m.(map[string]any)
		for _, k := range sortedKeys(mm) {
			fmt.Fprintf(x, "<%s>", tag)
			el("Name", k)
			el("Value", mm[k])
			fmt.Fprintf(x, "</%s>", tag)
		}
	}
	batch := func(okTag string, fields ...string) {
		for _, e := range asList(res["Successful"]) {
			fmt.Fprintf(x, "<%s>", okTag)
			for _, f := range fields {
				el(f, e[f])
			}
			fmt.Fprintf(x, "</%s>", okTag)
		}
		for _, e := range asList(res["Failed"]) {
			x.WriteString("<BatchResultErrorEntry>")
			for _, f := range []string{"Id", "Code", "Message", "SenderFault"} {
				el(f, e[f])
			}
			x.WriteString("</BatchResultErrorEntry>")
		}
	}
	switch action {
	case "CreateQueue", "GetQueueUrl":
		el("QueueUrl", res["QueueUrl"])
	case "ListQueues":
		urls, _ := res["QueueUrls"].([]any)
		for _, u := range urls {
			el("QueueUrl", u)
		}
		el("NextToken", res["NextToken"])
	case "GetQueueAttributes":
		nameValues("Attribute", res["Attributes"])
	case "ListDeadLetterSourceQueues":
		urls, _ := res["queueUrls"].([]any)
		for _, u := range urls {
			el("QueueUrl", u)
		}
	case "StartMessageMoveTask":
		el("TaskHandle", res["TaskHandle"])
	case "ListMessageMoveTasks":
		for _, t := range asList(res["Results"]) {
			x.WriteString("<ListMessageMoveTasksResultEntry>")
			for _, f := range sortedKeys(t) {
				el(f, t[f])
			}
			x.WriteString("</ListMessageMoveTasksResultEntry>")
		}
	case "ListQueueTags":
		tags, _ := res["Tags"].(map[string]any)
		for _, k := range sortedKeys(tags) {
			x.WriteString("<Tag>")
			el("Key", k)
			el("Value", tags[k])
			x.WriteString("</Tag>")
		}
	case "SendMessage":
		for _, f := range []string{"MessageId", "MD5OfMessageBody", "MD5OfMessageAttributes", "SequenceNumber"} {
			el(f, res[f])
		}
	case "SendMessageBatch":
		batch("SendMessageBatchResultEntry", "Id", "MessageId", "MD5OfMessageBody", "MD5OfMessageAttributes", "SequenceNumber")
	case "DeleteMessageBatch":
		batch("DeleteMessageBatchResultEntry", "Id")
	case "ChangeMessageVisibilityBatch":
		batch("ChangeMessageVisibilityBatchResultEntry", "Id")
	case "ReceiveMessage":
		for _, m := range asList(res["Messages"]) {
			x.WriteString("<Message>")
			for _, f := range []string{"MessageId", "ReceiptHandle", "MD5OfBody", "Body", "MD5OfMessageAttributes"} {
				el(f, m[f])
			}
			nameValues("Attribute", m["Attributes"])
			attrs, _ := m["MessageAttributes"].(map[string]any)
			for _, k := range sortedKeys(attrs) {
				a, _ := attrs[k].(map[string]any)
				x.WriteString("<MessageAttribute>")
				el("Name", k)
				x.WriteString("<Value>")
				el("StringValue", a["StringValue"])
				el("BinaryValue", a["BinaryValue"])
				el("DataType", a["DataType"])
				x.WriteString("</Value></MessageAttribute>")
			}
			x.WriteString("</Message>")
		}
	}
}

func asList(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
