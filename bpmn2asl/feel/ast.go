package feel

// node is a parsed FEEL expression; off is the byte offset of the token
// that diagnostics about the node point at.
type node interface{ pos() int }

type (
	numLit struct {
		off  int
		text string
	}
	strLit struct {
		off int
		val string
	}
	boolLit struct {
		off int
		val bool
	}
	nullLit struct{ off int }
	// ident is a bare name: a variable, a local, or (in a filter) a member.
	ident struct {
		off    int
		name   string
		quoted bool // written as `name`
	}
	member struct {
		off  int
		x    node
		name string
	}
	filter struct {
		off  int
		x    node
		pred node
	}
	call struct {
		off  int
		fn   string
		args []node
	}
	unary struct {
		off int
		x   node
	}
	binary struct {
		off  int
		op   string // + - * / ** = != < <= > >= and or
		l, r node
	}
	ifExpr struct {
		off        int
		c, th, els node
	}
	quant struct {
		off   int
		every bool
		iters []iter
		sat   node
	}
	iter struct {
		off  int
		name string
		in   node
		to   node // for i in 1..n: the range end (in is the start)
	}
	forExpr struct {
		off   int
		iters []iter
		ret   node
	}
	// inExpr is `x in tests`: the value satisfies any of the tests.
	inExpr struct {
		off   int
		x     node
		tests []node // rangeLit, cmpTest or a value expression
	}
	between struct {
		off       int
		x, lo, hi node
	}
	listLit struct {
		off   int
		elems []node
	}
	ctxLit struct {
		off  int
		keys []string
		offs []int
		vals []node
	}
	fnDef struct {
		off    int
		params []string
		body   node
	}
	rangeLit struct {
		off            int
		lo, hi         node
		loOpen, hiOpen bool
	}
	// cmpTest is a unary test such as `> 5`.
	cmpTest struct {
		off int
		op  string
		x   node
	}
)

func (n *numLit) pos() int   { return n.off }
func (n *strLit) pos() int   { return n.off }
func (n *boolLit) pos() int  { return n.off }
func (n *nullLit) pos() int  { return n.off }
func (n *ident) pos() int    { return n.off }
func (n *member) pos() int   { return n.off }
func (n *filter) pos() int   { return n.off }
func (n *call) pos() int     { return n.off }
func (n *unary) pos() int    { return n.off }
func (n *binary) pos() int   { return n.off }
func (n *ifExpr) pos() int   { return n.off }
func (n *quant) pos() int    { return n.off }
func (n *forExpr) pos() int  { return n.off }
func (n *inExpr) pos() int   { return n.off }
func (n *between) pos() int  { return n.off }
func (n *listLit) pos() int  { return n.off }
func (n *ctxLit) pos() int   { return n.off }
func (n *fnDef) pos() int    { return n.off }
func (n *rangeLit) pos() int { return n.off }
func (n *cmpTest) pos() int  { return n.off }
