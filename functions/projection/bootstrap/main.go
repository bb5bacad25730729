// Command bootstrap is the projection Lambda binary.
package main

import (
	"github.com/posluha/posluha/functions/internal/lambdamain"
	"github.com/posluha/posluha/functions/projection"
)

func main() { lambdamain.Start("projection", projection.Wire, (*projection.Handler).Lambda) }
