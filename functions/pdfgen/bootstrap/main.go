// Command bootstrap is the pdfgen Lambda binary.
package main

import (
	"github.com/posluha/posluha/functions/internal/lambdamain"
	"github.com/posluha/posluha/functions/pdfgen"
)

func main() { lambdamain.Start("pdfgen", pdfgen.Wire, (*pdfgen.Handler).Lambda) }
