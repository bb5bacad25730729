package eventwrite

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/connectors"
	"github.com/posluha/posluha/functions/internal/connector"
	"github.com/posluha/posluha/functions/internal/dynamo"
	"github.com/posluha/posluha/functions/internal/override"
	"github.com/posluha/posluha/functions/internal/stepevents"
)

// ConnectorOutbox sends notifications through a write connector of the
// citizens' notification service (notify.send: taxNumber, channel, text),
// with the notification id in the idempotency key, so a repeated Send
// delivers once.
type ConnectorOutbox struct {
	Connectors Connectors
	Connector  string // e.g. notify.send
	Channel    string // push (default), email, sms
}

var _ Outbox = (*ConnectorOutbox)(nil)

// Send implements Outbox with the Ukrainian text. Errors: the connector's.
func (o *ConnectorOutbox) Send(ctx context.Context, n *posluha.Notification) error {
	ch := o.Channel
	if ch == "" {
		ch = "push"
	}
	_, err := o.Connectors.Call(ctx, o.Connector, connector.Args{
		ApplicationID: n.ApplicationID,
		Arguments:     map[string]any{"taxNumber": n.Citizen, "channel": ch, "text": n.Title.UK + ". " + n.Body.UK},
	}, n.ID+"/notify")
	return err
}

// WireDeps builds the dependencies from the environment: DynamoDB tables
// (names from APPLICATIONS_TABLE, … see dynamo.TablesFromEnv) and Step
// Functions through cfg; registry limits shared through LIMITS_TABLE
// (POSLUHA_LIMITER=local: in-process only); connector templates compiled into the binary (or
// POSLUHA_CONNECTORS_DIR) with endpoint overrides from getenv; support's
// corrected arguments in OVERRIDES_TABLE when it is set; the outbox
// through the connector POSLUHA_OUTBOX_CONNECTOR (default notify.send;
// "none": inbox only). The local stack replaces Outbox with local/outbox
// before calling New.
func WireDeps(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (Deps, error) {
	var fsys fs.FS = connectors.FS
	if dir := getenv("POSLUHA_CONNECTORS_DIR"); dir != "" {
		fsys = os.DirFS(dir)
	}
	ts, err := connector.LoadFS(fsys, ".")
	if err != nil {
		return Deps{}, fmt.Errorf("load connectors: %w", err)
	}
	db := dynamodb.NewFromConfig(cfg)
	limiter, err := dynamo.LimiterFromEnv(db, getenv, log)
	if err != nil {
		return Deps{}, err
	}
	set, err := connector.New(ts, connector.Options{Getenv: getenv, Limiter: limiter})
	if err != nil {
		return Deps{}, fmt.Errorf("prepare connectors: %w", err)
	}
	tables := dynamo.TablesFromEnv(getenv)
	d := Deps{
		Applications:  dynamo.NewApplications(db, tables.Applications),
		Notifications: dynamo.NewNotifications(db, tables.Notifications),
		Awaits:        dynamo.NewAwaits(db, tables.Awaits),
		Effects:       dynamo.NewEffects(db, tables.Effects),
		Parking:       dynamo.NewParkedWrites(db, tables.Parked),
		Connectors:    set,
		SFN:           NewStepFunctions(sfn.NewFromConfig(cfg)),
		Log:           log,
		Steps:         stepevents.FromEnv(cfg, getenv),
		Overrides:     override.FromEnv(db, getenv),
	}
	switch id := getenv("POSLUHA_OUTBOX_CONNECTOR"); id {
	case "none":
	default:
		if id == "" {
			id = "notify.send"
		}
		t, ok := set.Template(id)
		if !ok || !t.Write {
			return Deps{}, fmt.Errorf("POSLUHA_OUTBOX_CONNECTOR: %q is not a write connector", id)
		}
		d.Outbox = &ConnectorOutbox{Connectors: set, Connector: id, Channel: getenv("POSLUHA_OUTBOX_CHANNEL")}
	}
	return d, nil
}

// Wire builds the handler from the environment (see WireDeps).
func Wire(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (*Handler, error) {
	d, err := WireDeps(ctx, cfg, log, getenv)
	if err != nil {
		return nil, err
	}
	return New(d), nil
}
