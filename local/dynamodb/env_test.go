package dynamodb

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// TestEndpointFromEnvironment configures the SDK the way the functions do
// (LoadDefaultConfig, no code change) with AWS_ENDPOINT_URL_DYNAMODB.
func TestEndpointFromEnvironment(t *testing.T) {
	srv, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": hs.URL, "AWS_REGION": "eu-central-1",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := ddb.NewFromConfig(cfg)
	createApps(t, c, "apps")
	out, err := c.ListTables(context.Background(), &ddb.ListTablesInput{})
	if err != nil || len(out.TableNames) != 1 || out.TableNames[0] != "apps" {
		t.Errorf("ListTables via AWS_ENDPOINT_URL_DYNAMODB = %v, %v", out, err)
	}
}
