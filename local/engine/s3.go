package engine

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/posluha/posluha/query/value"
)

// S3 is what a distributed Map's ItemReader and ResultWriter need from an
// S3-compatible store; the local stack fills it with its object store.
type S3 interface {
	GetObject(ctx context.Context, bucket, key string) ([]byte, error)
	PutObject(ctx context.Context, bucket, key string, body []byte) error
	ListObjects(ctx context.Context, bucket, prefix string) ([]S3Object, error)
}

// S3Object is one listed object.
type S3Object struct {
	Key          string
	Size         int64
	ETag         string
	LastModified time.Time
	StorageClass string
}

func readerFailed(format string, args ...any) *Failure {
	return &Failure{Name: "States.ItemReaderFailed", Cause: fmt.Sprintf(format, args...), inState: true}
}

// readItems runs a Map's ItemReader.
func (r *run) readItems(st *State, e *env) (any, error) {
	rd := st.ItemReader
	if r.eng.s3 == nil {
		return nil, readerFailed("no S3 store is configured for ItemReader")
	}
	var params any = value.NewObject(0)
	if rd.Parameters != nil {
		v, err := e.eval(rd.Parameters, st.Lang)
		if err != nil {
			return nil, err
		}
		params = v
	}
	po, _ := params.(*value.Object)
	bucketV, _ := po.Get("Bucket")
	bucket, _ := bucketV.(string)
	res, err := parseResource(rd.Resource)
	if err != nil {
		return nil, readerFailed("%v", err)
	}
	var items []any
	switch res.action {
	case "listObjectsV2":
		prefixV, _ := po.Get("Prefix")
		prefix, _ := prefixV.(string)
		objs, err := r.eng.s3.ListObjects(r.ctx, bucket, prefix)
		if err != nil {
			return nil, readerFailed("%v", err)
		}
		for _, o := range objs {
			items = append(items, value.ObjectOf("Etag", o.ETag, "Key", o.Key, "LastModified", formatTime(o.LastModified), "Size", float64(o.Size), "StorageClass", o.StorageClass))
		}
	case "getObject":
		keyV, _ := po.Get("Key")
		key, _ := keyV.(string)
		body, err := r.eng.s3.GetObject(r.ctx, bucket, key)
		if err != nil {
			return nil, readerFailed("%v", err)
		}
		items, err = decodeItems(body, rd)
		if err != nil {
			return nil, readerFailed("%v", err)
		}
	default:
		return nil, readerFailed("unsupported ItemReader resource %s", rd.Resource)
	}
	if rd.MaxItems != nil {
		n, err := r.intField(rd.MaxItems, e, false)
		if err != nil {
			return nil, err
		}
		if n > 0 && int(n) < len(items) {
			items = items[:int(n)]
		}
	}
	if items == nil {
		items = []any{}
	}
	return items, nil
}

func decodeItems(body []byte, rd *ItemReader) ([]any, error) {
	switch strings.ToUpper(rd.InputType) {
	case "", "JSON":
		v, err := value.Parse(body)
		if err != nil {
			return nil, fmt.Errorf("the object is not valid JSON: %w", err)
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, errors.New("the JSON object must contain an array")
		}
		return arr, nil
	case "JSONL":
		var out []any
		for _, line := range bytes.Split(body, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			v, err := value.Parse(line)
			if err != nil {
				return nil, fmt.Errorf("a JSONL line is not valid JSON: %w", err)
			}
			out = append(out, v)
		}
		return out, nil
	case "CSV":
		cr := csv.NewReader(bytes.NewReader(body))
		if rd.CSVDelimiter == "SEMICOLON" {
			cr.Comma = ';'
		} else if rd.CSVDelimiter == "TAB" {
			cr.Comma = '\t'
		}
		cr.FieldsPerRecord = -1
		rows, err := cr.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("CSV: %w", err)
		}
		headers := rd.CSVHeaders
		if rd.HeaderFirst || headers == nil {
			if len(rows) == 0 {
				return []any{}, nil
			}
			headers, rows = rows[0], rows[1:]
		}
		out := make([]any, 0, len(rows))
		for _, row := range rows {
			o := value.NewObject(len(headers))
			for i, h := range headers {
				v := ""
				if i < len(row) {
					v = row[i]
				}
				o.Set(h, v)
			}
			out = append(out, o)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported InputType %s", rd.InputType)
}

// writeResults runs a Map's ResultWriter: the results go to S3 and the
// state's result describes where.
func (r *run) writeResults(t *Thread, st *State, e *env, results []any) (any, error) {
	w := st.ResultWriter
	var params any = value.NewObject(0)
	if w.Parameters != nil {
		v, err := e.eval(w.Parameters, st.Lang)
		if err != nil {
			return nil, err
		}
		params = v
	}
	po, _ := params.(*value.Object)
	bv, _ := po.Get("Bucket")
	bucket, _ := bv.(string)
	pv, _ := po.Get("Prefix")
	prefix, _ := pv.(string)
	runID := r.x.Name + "-" + st.Name
	base := strings.TrimSuffix(prefix, "/")
	if base != "" {
		base += "/"
	}
	base += runID + "/"
	succeeded := make([]any, 0, len(results))
	var failed []any
	for _, c := range t.Children {
		o := value.NewObject(4)
		o.Set("Input", value.String(c.Input.V))
		if c.Failed {
			o.Set("Error", c.Error)
			o.Set("Cause", c.Cause)
			o.Set("Status", "FAILED")
			failed = append(failed, o)
			continue
		}
		o.Set("Output", value.String(c.Output.V))
		o.Set("Status", "SUCCEEDED")
		succeeded = append(succeeded, o)
	}
	fail := func(err error) (any, error) {
		return nil, &Failure{Name: "States.ResultWriterFailed", Cause: err.Error(), inState: true}
	}
	if err := r.eng.s3.PutObject(r.ctx, bucket, base+"SUCCEEDED_0.json", value.Marshal(succeeded)); err != nil {
		return fail(err)
	}
	failedFiles := []any{}
	if len(failed) > 0 {
		if err := r.eng.s3.PutObject(r.ctx, bucket, base+"FAILED_0.json", value.Marshal(failed)); err != nil {
			return fail(err)
		}
		failedFiles = append(failedFiles, value.ObjectOf("Key", base+"FAILED_0.json", "Size", float64(size(failed))))
	}
	manifest := value.ObjectOf("DestinationBucket", bucket, "MapRunArn", r.x.ARN+"/"+st.Name,
		"ResultFiles", value.ObjectOf("FAILED", failedFiles, "PENDING", []any{},
			"SUCCEEDED", []any{value.ObjectOf("Key", base+"SUCCEEDED_0.json", "Size", float64(size(succeeded)))}))
	if err := r.eng.s3.PutObject(r.ctx, bucket, base+"manifest.json", value.Marshal(manifest)); err != nil {
		return fail(err)
	}
	return value.ObjectOf("MapRunArn", r.x.ARN+"/"+st.Name,
		"ResultWriterDetails", value.ObjectOf("Bucket", bucket, "Key", base+"manifest.json")), nil
}
