// Command bootstrap is the eventwrite Lambda binary.
package main

import (
	"github.com/posluha/posluha/functions/eventwrite"
	"github.com/posluha/posluha/functions/internal/lambdamain"
)

func main() { lambdamain.Start("eventwrite", eventwrite.Wire, (*eventwrite.Handler).Lambda) }
