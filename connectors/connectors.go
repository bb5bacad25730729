// Package connectors embeds the registry connector templates shared by all
// services, so the Lambda binaries carry them and need no file system.
package connectors

import "embed"

// FS holds every *.yaml template of this folder.
//
//go:embed *.yaml
var FS embed.FS
