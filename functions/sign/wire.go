package sign

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/posluha/posluha"
	"github.com/posluha/posluha/functions/internal/blob"
	"github.com/posluha/posluha/functions/internal/stepevents"
	"github.com/posluha/posluha/functions/sign/cms"
)

// SFNAPI is the part of the Step Functions client SFN uses.
type SFNAPI interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// SFN completes tasks through the Step Functions API (AWS or the local
// engine's sfnapi).
type SFN struct{ API SFNAPI }

// SendTaskSuccess implements Tasks: a token that timed out, does not exist
// or is malformed is Signature.Expired.
func (s SFN) SendTaskSuccess(ctx context.Context, token, output string) error {
	_, err := s.API.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(output)})
	var timedOut *types.TaskTimedOut
	var gone *types.TaskDoesNotExist
	var invalid *types.InvalidToken
	if errors.As(err, &timedOut) || errors.As(err, &gone) || errors.As(err, &invalid) {
		return posluha.Errorf(posluha.ErrSignatureExpired, "the process no longer waits for this signature")
	}
	if err != nil {
		return fmt.Errorf("send task success: %w", err)
	}
	return nil
}

// TrustedRoots reads the CA certificates signatures must chain to from
// TRUSTED_CA_PEM or the file TRUSTED_CA_FILE (PEM, several allowed).
func TrustedRoots(getenv func(string) string) (*x509.CertPool, error) {
	pemBytes := []byte(getenv("TRUSTED_CA_PEM"))
	if f := getenv("TRUSTED_CA_FILE"); len(pemBytes) == 0 && f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("trusted CAs: %w", err)
		}
		pemBytes = b
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, errors.New("TRUSTED_CA_PEM or TRUSTED_CA_FILE must hold at least one PEM certificate")
	}
	return pool, nil
}

// CRLs reads revocation lists from TRUSTED_CRL_FILE (PEM "X509 CRL"
// blocks); none configured is no CRLs. They are read at start: a Lambda
// instance lives for hours at most; long-lived processes should rewire.
func CRLs(getenv func(string) string) ([]*x509.RevocationList, error) {
	f := getenv("TRUSTED_CRL_FILE")
	if f == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("CRLs: %w", err)
	}
	var out []*x509.RevocationList
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		l, err := x509.ParseRevocationList(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CRL in %s: %w", f, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// Wire builds the handler from the environment: DOCUMENTS_BUCKET (and
// S3_PATH_STYLE, S3_SSE, see blob.FromEnv), SIGN_TABLE (DynamoDB) or
// SIGN_DB (bbolt file, local stack), TRUSTED_CA_PEM / TRUSTED_CA_FILE,
// TRUSTED_CRL_FILE, SIGN_DEEPLINK. Endpoints come from the SDK's AWS_ENDPOINT_URL_* variables.
func Wire(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (*Handler, error) {
	d, err := WireDeps(ctx, cfg, log, getenv)
	if err != nil {
		return nil, err
	}
	return New(d), nil
}

// WireDeps builds the dependencies from the environment, so that the local
// stack can replace one (Tasks: its engine) before New.
func WireDeps(_ context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (Deps, error) {
	blobs, err := blob.FromEnv(cfg, getenv)
	if err != nil {
		return Deps{}, err
	}
	roots, err := TrustedRoots(getenv)
	if err != nil {
		return Deps{}, err
	}
	crls, err := CRLs(getenv)
	if err != nil {
		return Deps{}, err
	}
	verifier := cms.NewVerifier(roots)
	verifier.CRLs = crls
	var store Store
	switch {
	case getenv("SIGN_TABLE") != "":
		store = NewDynamo(dynamodb.NewFromConfig(cfg), getenv("SIGN_TABLE"))
	case getenv("SIGN_DB") != "":
		if store, err = OpenBolt(getenv("SIGN_DB")); err != nil {
			return Deps{}, err
		}
	default:
		return Deps{}, errors.New("SIGN_TABLE or SIGN_DB is required")
	}
	return Deps{
		Store: store, Blobs: blobs, Tasks: SFN{API: sfn.NewFromConfig(cfg)},
		Verifier: verifier, Log: log, Deeplink: getenv("SIGN_DEEPLINK"),
		Steps: stepevents.FromEnv(cfg, getenv),
	}, nil
}
