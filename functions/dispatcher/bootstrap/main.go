// Command bootstrap is the dispatcher Lambda binary.
package main

import (
	"github.com/posluha/posluha/functions/dispatcher"
	"github.com/posluha/posluha/functions/internal/lambdamain"
)

func main() { lambdamain.Start("dispatcher", dispatcher.Wire, (*dispatcher.Handler).Lambda) }
