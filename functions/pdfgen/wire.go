package pdfgen

import (
	"context"
	"io/fs"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/posluha/posluha/functions/internal/blob"
	"github.com/posluha/posluha/functions/internal/kms"
	"github.com/posluha/posluha/functions/internal/stepevents"
	"github.com/posluha/posluha/functions/sign"
	"github.com/posluha/posluha/functions/sign/cms"
	"github.com/posluha/posluha/statemachines"
)

// Wire builds the handler from the environment: DOCUMENTS_BUCKET (and
// S3_PATH_STYLE, S3_SSE), the e-seal (SEAL_CERT_PEM/SEAL_CERT_FILE with
// SEAL_KMS_KEY_ID or SEAL_KEY_FILE, see kms.LoadSeal), TRUSTED_CA_PEM /
// TRUSTED_CA_FILE (for Verify), VERIFY_URL, and TEMPLATES_DIR (default: the
// service folders embedded in the binary).
func Wire(ctx context.Context, cfg aws.Config, log *slog.Logger, getenv func(string) string) (*Handler, error) {
	blobs, err := blob.FromEnv(cfg, getenv)
	if err != nil {
		return nil, err
	}
	seal, err := kms.LoadSeal(ctx, cfg, getenv)
	if err != nil {
		return nil, err
	}
	roots, err := sign.TrustedRoots(getenv)
	if err != nil {
		return nil, err
	}
	roots.AddCert(seal.Cert) // a self-issued seal still verifies its own documents
	for _, c := range seal.Chain {
		roots.AddCert(c)
	}
	var templates fs.FS = statemachines.FS
	if dir := getenv("TEMPLATES_DIR"); dir != "" {
		templates = os.DirFS(dir)
	}
	verifyURL := getenv("VERIFY_URL")
	if verifyURL == "" {
		verifyURL = "http://127.0.0.1:8080/verify/"
	}
	return New(Deps{Templates: templates, Blobs: blobs, Seal: seal, Verifier: cms.NewVerifier(roots), VerifyURL: verifyURL, Log: log,
		Steps: stepevents.FromEnv(cfg, getenv)}), nil
}
