// Command bootstrap is the registryread Lambda binary.
package main

import (
	"github.com/posluha/posluha/functions/internal/lambdamain"
	"github.com/posluha/posluha/functions/registryread"
)

func main() { lambdamain.Start("registryread", registryread.Wire, (*registryread.Handler).Lambda) }
