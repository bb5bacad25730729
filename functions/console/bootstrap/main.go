// Command bootstrap is the console Lambda binary.
package main

import (
	"github.com/posluha/posluha/functions/console"
	"github.com/posluha/posluha/functions/internal/lambdamain"
)

func main() { lambdamain.Start("console", console.Wire, (*console.Handler).Lambda) }
