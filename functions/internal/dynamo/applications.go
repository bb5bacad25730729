package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/posluha/posluha"
)

// lockPrefix starts the key of a one-open-application lock item.
const lockPrefix = "lock#"

// updateTries bounds the optimistic-concurrency loop of Update.
const updateTries = 8

// Applications implements posluha.Applications on one DynamoDB table.
type Applications struct {
	c     Client
	table string
	// Now stamps created/updated times the caller left empty; time.Now
	// when nil.
	Now func() time.Time
}

var _ posluha.Applications = (*Applications)(nil)

// NewApplications returns the adapter for table.
func NewApplications(c Client, table string) *Applications {
	return &Applications{c: c, table: table, Now: time.Now}
}

func lockKey(service, citizen string) string { return lockPrefix + service + "#" + citizen }

// Create implements posluha.Applications. It fills in a's status
// (submitted), times and version (1) when they are empty.
func (s *Applications) Create(ctx context.Context, a *posluha.Application, oneOpen bool) error {
	if err := prepareCreate(a, s.Now()); err != nil {
		return err
	}
	if oneOpen && a.Citizen == "" {
		return posluha.Errorf(posluha.ErrApplicationInvalid, "application %s: citizen is required for the one-open-application rule", a.ID)
	}
	av, err := encodeApp(a, oneOpen)
	if err != nil {
		return err
	}
	if !oneOpen {
		_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table), Item: av,
			ConditionExpression: aws.String("attribute_not_exists(applicationId)"),
		})
		if conditionFailed(err) {
			return posluha.Errorf(posluha.ErrApplicationConflict, "application %s exists", a.ID)
		}
		if err != nil {
			return fmt.Errorf("put application %s: %w", a.ID, err)
		}
		return nil
	}
	lock := lockKey(a.Service, a.Citizen)
	for try := 0; ; try++ {
		_, err := s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(s.table), Item: av,
				ConditionExpression: aws.String("attribute_not_exists(applicationId)")}},
			{Put: &types.Put{TableName: aws.String(s.table), Item: lockItem(lock, a),
				ConditionExpression:                 aws.String("attribute_not_exists(applicationId)"),
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		}})
		if err == nil {
			return nil
		}
		reasons, ok := cancelReasons(err)
		if !ok {
			return fmt.Errorf("put application %s: %w", a.ID, err)
		}
		if failed(reasons, 0) {
			return posluha.Errorf(posluha.ErrApplicationConflict, "application %s exists", a.ID)
		}
		if !failed(reasons, 1) {
			return fmt.Errorf("put application %s: %w", a.ID, err)
		}
		holder := (&item{m: reasons[1].Item}).str("holder")
		if try > 0 {
			return openConflict(a.Service, holder)
		}
		// A lock whose holder is final or gone is stale (a crash between
		// the update and the lock's release): take it over, once.
		stale, err := s.staleLock(ctx, holder)
		if err != nil {
			return err
		}
		if !stale {
			return openConflict(a.Service, holder)
		}
		_, err = s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(s.table), Key: key("applicationId", lock),
			ConditionExpression:       aws.String("holder = :h"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(holder)},
		})
		if err != nil && !conditionFailed(err) {
			return fmt.Errorf("release stale lock of %s: %w", holder, err)
		}
	}
}

func openConflict(service, holder string) error {
	return posluha.Errorf(posluha.ErrApplicationConflict, "an application for %s is already open: %s", service, holder)
}

func (s *Applications) staleLock(ctx context.Context, holder string) (bool, error) {
	h, _, _, err := s.get(ctx, holder)
	if posluha.ErrorName(err) == posluha.ErrApplicationNotFound {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !h.Open(), nil
}

func prepareCreate(a *posluha.Application, now time.Time) error {
	switch {
	case a.ID == "" || strings.HasPrefix(a.ID, lockPrefix):
		return posluha.Errorf(posluha.ErrApplicationInvalid, "application id %q is not allowed", a.ID)
	case a.Status != "" && !a.Status.Valid():
		return posluha.Errorf(posluha.ErrApplicationInvalid, "application %s: unknown status %q", a.ID, a.Status)
	}
	if a.Status == "" {
		a.Status = posluha.StatusSubmitted
	}
	if a.Created.IsZero() {
		a.Created = now
	}
	if a.Updated.IsZero() {
		a.Updated = a.Created
	}
	a.Version = 1
	return nil
}

func lockItem(lock string, a *posluha.Application) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"applicationId": str(lock), "holder": str(a.ID), "service": str(a.Service),
	}
}

func key(name, v string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{name: str(v)}
}

func cancelReasons(err error) ([]types.CancellationReason, bool) {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return tce.CancellationReasons, true
	}
	return nil, false
}

func failed(reasons []types.CancellationReason, i int) bool {
	return i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed"
}

// Get implements posluha.Applications.
func (s *Applications) Get(ctx context.Context, id string) (*posluha.Application, error) {
	a, _, _, err := s.get(ctx, id)
	return a, err
}

// get returns the application, whether it holds a lock, and its raw item.
func (s *Applications) get(ctx context.Context, id string) (*posluha.Application, bool, map[string]types.AttributeValue, error) {
	if id == "" || strings.HasPrefix(id, lockPrefix) {
		return nil, false, nil, posluha.Errorf(posluha.ErrApplicationNotFound, "application %q not found", id)
	}
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key("applicationId", id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, false, nil, fmt.Errorf("get application %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, false, nil, posluha.Errorf(posluha.ErrApplicationNotFound, "application %s not found", id)
	}
	a, oneOpen, err := decodeApp(out.Item)
	if err != nil {
		return nil, false, nil, fmt.Errorf("decode application %s: %w", id, err)
	}
	return a, oneOpen, out.Item, nil
}

// pageToken is the position after which the next page starts.
type pageToken struct {
	Created string `json:"c"`
	ID      string `json:"i"`
}

func encodeToken(t pageToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.ID == "" {
		return t, posluha.Errorf(posluha.ErrApplicationInvalid, "bad page token")
	}
	return t, nil
}

// pageLimit clamps a requested page size.
func pageLimit(limit int) int {
	switch {
	case limit <= 0:
		return 20
	case limit > 100:
		return 100
	}
	return limit
}

// ListByCitizen implements posluha.Applications. after is an opaque token
// from a previous page; a malformed one is Application.Invalid.
func (s *Applications) ListByCitizen(ctx context.Context, citizen string, limit int, after string) ([]*posluha.Application, string, error) {
	if citizen == "" {
		return []*posluha.Application{}, "", nil // no key value to query by
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(IndexAppsByCitizen),
		KeyConditionExpression:    aws.String("citizen = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(citizen)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(pageLimit(limit))),
	}
	if after != "" {
		t, err := decodeToken(after)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"applicationId": str(t.ID), "citizen": str(citizen), "created": str(t.Created),
		}
	}
	out, err := s.c.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("list applications by citizen: %w", err)
	}
	apps := make([]*posluha.Application, 0, len(out.Items))
	for _, it := range out.Items {
		a, _, err := decodeApp(it)
		if err != nil {
			return nil, "", fmt.Errorf("decode application: %w", err)
		}
		apps = append(apps, a)
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		k := &item{m: lek}
		next = encodeToken(pageToken{Created: k.str("created"), ID: k.str("applicationId")})
	}
	return apps, next, nil
}

// Update implements posluha.Applications. A change that leaves the
// application as it was (a retried step) writes nothing and keeps its
// version. Errors: Application.NotFound, Application.Conflict (the version
// kept changing, or a reopened application finds its service's lock held
// by another), f's error.
func (s *Applications) Update(ctx context.Context, id string, f func(*posluha.Application) error) (*posluha.Application, error) {
	for try := 0; try < updateTries; try++ {
		a, oneOpen, raw, err := s.get(ctx, id)
		if err != nil {
			return nil, err
		}
		version, wasOpen := a.Version, a.Open()
		if err := f(a); err != nil {
			return nil, err
		}
		a.ID, a.Version = id, version
		av, err := encodeApp(a, oneOpen)
		if err != nil {
			return nil, err
		}
		for k, v := range raw {
			if !appAttrs[k] {
				av[k] = v // someone else's attribute (a retention TTL): keep it
			}
		}
		if _, started := raw[attrStarted]; started {
			delete(av, attrSubmittedShard) // MarkStarted took it out of the sweep
		}
		if reflect.DeepEqual(av, raw) {
			return a, nil
		}
		a.Version = version + 1
		av["version"] = num(a.Version)
		put := &types.Put{
			TableName: aws.String(s.table), Item: av,
			ConditionExpression:       aws.String("#v = :v"),
			ExpressionAttributeNames:  map[string]string{"#v": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)},
		}
		lock := lockKey(a.Service, a.Citizen)
		reopen := oneOpen && !wasOpen && a.Open()
		if reopen {
			_, err = s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: put},
				{Put: &types.Put{TableName: aws.String(s.table), Item: lockItem(lock, a),
					ConditionExpression:                 aws.String("attribute_not_exists(applicationId) OR holder = :id"),
					ExpressionAttributeValues:           map[string]types.AttributeValue{":id": str(id)},
					ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
			}})
			if reasons, ok := cancelReasons(err); ok {
				if failed(reasons, 1) {
					holder := (&item{m: reasons[1].Item}).str("holder")
					stale, serr := s.staleLock(ctx, holder)
					if serr != nil {
						return nil, serr
					}
					if !stale {
						return nil, openConflict(a.Service, holder)
					}
					if _, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
						TableName: aws.String(s.table), Key: key("applicationId", lock),
						ConditionExpression:       aws.String("holder = :h"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(holder)},
					}); err != nil && !conditionFailed(err) {
						return nil, fmt.Errorf("release stale lock of %s: %w", holder, err)
					}
					continue
				}
				if failed(reasons, 0) {
					continue // changed meanwhile: read again
				}
			}
		} else {
			_, err = s.c.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: put.TableName, Item: put.Item,
				ConditionExpression: put.ConditionExpression, ExpressionAttributeValues: put.ExpressionAttributeValues,
				ExpressionAttributeNames: put.ExpressionAttributeNames,
			})
			if conditionFailed(err) {
				continue
			}
		}
		if err != nil {
			return nil, fmt.Errorf("update application %s: %w", id, err)
		}
		if oneOpen && wasOpen && !a.Open() {
			// Released after the write: a crash in between leaves a stale
			// lock, which the next Create recognises and takes over.
			_, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: aws.String(s.table), Key: key("applicationId", lock),
				ConditionExpression:       aws.String("holder = :id"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(id)},
			})
			if err != nil && !conditionFailed(err) {
				return nil, fmt.Errorf("release lock of %s: %w", id, err)
			}
		}
		return a, nil
	}
	return nil, posluha.Errorf(posluha.ErrApplicationConflict, "application %s keeps changing; try again", id)
}

// appAttrs are the attributes encodeApp owns; Update keeps any other.
var appAttrs = map[string]bool{
	"applicationId": true, "service": true, "citizen": true, "submittedBy": true, "status": true, "step": true, "form": true,
	"created": true, "updated": true, "statusHistory": true, "documents": true, "version": true, "oneOpen": true,
	attrSubmittedShard: true,
}

func encodeApp(a *posluha.Application, oneOpen bool) (map[string]types.AttributeValue, error) {
	m := map[string]types.AttributeValue{
		"applicationId": str(a.ID),
		"service":       str(a.Service),
		"status":        str(string(a.Status)),
		"created":       str(fmtTime(a.Created)),
		"updated":       str(fmtTime(a.Updated)),
		"version":       num(a.Version),
		"oneOpen":       &types.AttributeValueMemberBOOL{Value: oneOpen},
	}
	if a.Citizen != "" { // a GSI key must not be empty
		m["citizen"] = str(a.Citizen)
	}
	if a.SubmittedBy != "" {
		m["submittedBy"] = str(a.SubmittedBy)
	}
	if a.Status == posluha.StatusSubmitted {
		m[attrSubmittedShard] = str(submittedShard(a.ID)) // in the sparse index while submitted
	}
	if a.Step != "" {
		m["step"] = str(a.Step)
	}
	if a.Form != nil {
		f, err := toAttr(a.Form)
		if err != nil {
			return nil, posluha.Errorf(posluha.ErrApplicationInvalid, "application %s: form: %v", a.ID, err)
		}
		m["form"] = f
	}
	hist := make([]types.AttributeValue, len(a.StatusHistory))
	for i, c := range a.StatusHistory {
		e := map[string]types.AttributeValue{"status": str(string(c.Status)), "time": str(fmtTime(c.Time))}
		if c.Step != "" {
			e["step"] = str(c.Step)
		}
		if c.Reason != "" {
			e["reason"] = str(c.Reason)
		}
		hist[i] = &types.AttributeValueMemberM{Value: e}
	}
	m["statusHistory"] = &types.AttributeValueMemberL{Value: hist}
	if len(a.Documents) > 0 {
		docs := make([]types.AttributeValue, len(a.Documents))
		for i, d := range a.Documents {
			e := map[string]types.AttributeValue{"number": str(d.Number), "key": str(d.Key), "sha256": str(d.SHA256)}
			if len(d.Signatures) > 0 {
				e["signatures"], _ = toAttr(d.Signatures)
			}
			docs[i] = &types.AttributeValueMemberM{Value: e}
		}
		m["documents"] = &types.AttributeValueMemberL{Value: docs}
	}
	return m, nil
}

func decodeApp(m map[string]types.AttributeValue) (*posluha.Application, bool, error) {
	it := &item{m: m}
	a := &posluha.Application{
		ID:          it.str("applicationId"),
		Service:     it.str("service"),
		Citizen:     it.str("citizen"),
		SubmittedBy: it.str("submittedBy"),
		Status:      posluha.Status(it.str("status")),
		Step:        it.str("step"),
		Created:     it.time("created"),
		Updated:     it.time("updated"),
		Version:     it.int("version"),
	}
	if f, ok := it.value("form").(map[string]any); ok {
		a.Form = f
	}
	a.StatusHistory = []posluha.StatusChange{}
	for _, e := range it.list("statusHistory") {
		h := &item{m: asMap(e)}
		a.StatusHistory = append(a.StatusHistory, posluha.StatusChange{
			Status: posluha.Status(h.str("status")), Step: h.str("step"), Time: h.time("time"), Reason: h.str("reason"),
		})
		if h.err != nil {
			return nil, false, fmt.Errorf("statusHistory: %w", h.err)
		}
	}
	for _, e := range it.list("documents") {
		d := &item{m: asMap(e)}
		doc := posluha.Document{Number: d.str("number"), Key: d.str("key"), SHA256: d.str("sha256")}
		for _, s := range d.list("signatures") {
			if v, ok := s.(*types.AttributeValueMemberS); ok {
				doc.Signatures = append(doc.Signatures, v.Value)
			}
		}
		if d.err != nil {
			return nil, false, fmt.Errorf("documents: %w", d.err)
		}
		a.Documents = append(a.Documents, doc)
	}
	oneOpen := it.bool("oneOpen")
	if it.err != nil {
		return nil, false, it.err
	}
	return a, oneOpen, nil
}
