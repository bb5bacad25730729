package jsonata

func fnFormatNumber(c *call, a []any) any  { return undef }
func fnFormatBase(c *call, a []any) any    { return undef }
func fnFormatInteger(c *call, a []any) any { return undef }
func fnParseInteger(c *call, a []any) any  { return undef }
func fnToMillis(c *call, a []any) any      { return undef }
func fnFromMillis(c *call, a []any) any    { return undef }
func fnNow(c *call, a []any) any           { return undef }
