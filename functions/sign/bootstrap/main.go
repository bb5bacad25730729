// Command bootstrap is the sign Lambda binary.
package main

import (
	"github.com/posluha/posluha/functions/internal/lambdamain"
	"github.com/posluha/posluha/functions/sign"
)

func main() { lambdamain.Start("sign", sign.Wire, (*sign.Handler).Lambda) }
