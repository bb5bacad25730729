// Command bootstrap is the api Lambda binary.
package main

import (
	"github.com/posluha/posluha/functions/api"
	"github.com/posluha/posluha/functions/internal/lambdamain"
)

func main() { lambdamain.Start("api", api.Wire, (*api.Handler).Lambda) }
