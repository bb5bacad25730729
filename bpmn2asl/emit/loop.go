package emit

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/posluha/posluha/bpmn2asl/asl"
	"github.com/posluha/posluha/bpmn2asl/bpmn"
	"github.com/posluha/posluha/bpmn2asl/diag"
	"github.com/posluha/posluha/bpmn2asl/feel"
)

func feelNames(src string) ([]string, error) { return feel.Names(src) }

// multiInstance emits a multi-instance activity as an inline Map over the
// input collection (or 1..loopCardinality); sequential = MaxConcurrency 1.
// Each iteration first assigns the input element, runs the activity, and
// outputs the output element; the Map assigns the list of outputs to the
// output collection.
func (w *walk) multiInstance(n *bpmn.Node, name string) *asl.State {
	e := w.e
	l := n.Loop
	st := w.c.add(&asl.State{Name: name, Type: asl.TypeMap, Comment: "multi-instance of bpmn:" + n.ID})
	items := ""
	switch {
	case strings.TrimSpace(l.InputCollection) != "":
		src := l.InputCollection
		if !isFEEL(src) {
			src = "=" + src
		}
		if j, ok := e.translate(src, &n.Element, l.ExtPos, "input collection"); ok {
			items = fmt.Sprintf("($c := (%s); $type($c) = \"array\" ? $c : ($exists($c) and $c != null ? [$c] : []))", j)
		}
	case l.LoopCardinality != nil && strings.TrimSpace(l.LoopCardinality.Text) != "":
		text := strings.TrimSpace(l.LoopCardinality.Text)
		if k, err := strconv.Atoi(text); err == nil && k >= 0 {
			items = fmt.Sprintf("[1..%d]", k)
			if k == 0 {
				items = "[]"
			}
		} else if j, ok := e.translate(text, &n.Element, l.LoopCardinality.TextPos, "loop cardinality"); ok {
			items = fmt.Sprintf("($n := (%s); $n >= 1 ? [1..$n] : [])", j)
		}
	default:
		e.report(diag.BadMultiInstance, &n.Element, l.Pos, "set zeebe:loopCharacteristics inputCollection (e.g. =signers) and inputElement",
			"multi-instance %s has neither an input collection nor a loop cardinality", labelOf(n))
	}
	if items == "" {
		items = "[]"
	}
	st.Items = asl.Expr(items)
	st.ItemSelector = asl.NewObject("item", asl.Expr("$states.context.Map.Item.Value"), "index", asl.Expr("$states.context.Map.Item.Index"))
	if l.IsSequential {
		st.MaxConcurrency = 1
	}
	bc := newContainer(false)
	elem := strings.TrimSpace(l.InputElement)
	first := ""
	if elem != "" {
		if !validVar(elem) {
			e.report(diag.BadMultiInstance, &n.Element, l.ExtPos, "use a plain variable name as inputElement", "inputElement %q of %s is not a plain variable name", elem, labelOf(n))
		} else {
			init := bc.add(&asl.State{Name: e.stateName(&n.Element, "item start"), Type: asl.TypePass,
				Assign: asl.NewObject(elem, asl.Expr("$states.input.item"), "loopCounter", asl.Expr("$states.input.index + 1"))})
			first = init.Name
		}
	}
	body := w.innerBody(n, bc)
	if first != "" {
		bc.states.Get(first).Next = body.entry
	} else {
		first = body.entry
	}
	out := strings.TrimSpace(l.OutputElement)
	if out != "" {
		src := out
		if !isFEEL(src) {
			src = "=" + src
		}
		if j, ok := e.translate(src, &n.Element, l.ExtPos, "output element"); ok {
			for _, end := range body.ends {
				end.Output = asl.Expr(nullSafe(j))
			}
		}
	}
	st.ItemProcessor = &asl.ItemProcessor{ProcessorConfig: &asl.ProcessorConfig{Mode: "INLINE"}, StartAt: first, States: bc.states}
	if oc := strings.TrimSpace(l.OutputCollection); oc != "" {
		if validVar(oc) {
			st.Assign = asl.NewObject(oc, asl.Expr("$states.result"))
		} else {
			e.report(diag.BadMultiInstance, &n.Element, l.ExtPos, "use a plain variable name as outputCollection", "outputCollection %q of %s is not a plain variable name", oc, labelOf(n))
		}
	}
	if bc.terminates {
		w.catchTerminate(st, []*container{bc})
	}
	return st
}

type body struct {
	entry string
	ends  []*asl.State
}

// innerBody emits one execution of n (without its loop marker) into bc and
// ends it there.
func (w *walk) innerBody(n *bpmn.Node, bc *container) body {
	name := w.e.stateName(&n.Element, "item")
	bw := &walk{e: w.e, c: bc, an: w.an}
	tail := bw.core(n, bc, name)
	// Boundaries stay on the Map (they interrupt all iterations).
	end := bc.add(&asl.State{Name: w.e.stateName(&n.Element, "item done"), Type: asl.TypePass, End: true})
	tail.Next = end.Name
	bw.linkTerminateCatch(tail)
	return body{entry: name, ends: []*asl.State{end}}
}

// standardLoop emits a standard loop: the activity, then a Choice that
// repeats it while the loop condition holds (testBefore: the Choice comes
// first), bounded by loopMaximum through a counter variable.
func (w *walk) standardLoop(n *bpmn.Node, name string) string {
	e := w.e
	l := n.Loop
	counter := "loop_" + sanitize(n.ID)
	cond := ""
	if l.LoopCondition != nil && strings.TrimSpace(l.LoopCondition.Text) != "" {
		if j, ok := e.translateCond(l.LoopCondition.Text, &n.Element, l.LoopCondition.TextPos, "loop condition"); ok {
			cond = j
		}
	} else {
		e.report(diag.BadLoop, &n.Element, l.Pos, "set a loop condition (FEEL) that says when to repeat",
			"standard loop %s has no loop condition", labelOf(n))
		cond = "false"
	}
	if cond == "" {
		cond = "false"
	}
	if mx := strings.TrimSpace(l.LoopMaximum); mx != "" {
		if k, err := strconv.Atoi(mx); err == nil && k >= 0 {
			cond = fmt.Sprintf("(%s) and $%s < %d", cond, counter, k)
		} else {
			e.report(diag.BadLoop, &n.Element, l.Pos, "write loopMaximum as a whole number", "loopMaximum %q of %s is not a whole number", mx, labelOf(n))
		}
	}
	initName := e.stateName(&n.Element, "loop start")
	w.c.memo[n] = initName
	// The counter holds the runs so far when the Choice reads it: 0 before
	// a test-before check, 1 after the first run otherwise.
	runs := 1
	if l.TestBefore {
		runs = 0
	}
	init := w.c.add(&asl.State{Name: initName, Type: asl.TypePass, Comment: "loop of bpmn:" + n.ID, Assign: asl.NewObject(counter, runs)})
	bodyName := name
	check := &asl.State{Name: e.stateName(&n.Element, "loop again?"), Type: asl.TypeChoice, Comment: "loop of bpmn:" + n.ID}
	tail := w.core(n, w.c, bodyName)
	w.boundaries(n, tail)
	w.c.add(check)
	inc := asl.NewObject(counter, asl.Expr(fmt.Sprintf("$%s + 1", counter)))
	exit := &asl.State{}
	w.then(exit, n)
	if exit.Next == "" {
		done := w.c.add(&asl.State{Name: e.stateName(&n.Element, "loop done"), Type: asl.TypePass})
		w.finish(done)
		exit.Next = done.Name
	}
	if l.TestBefore {
		init.Next = check.Name
		tail.Next = check.Name
		check.Choices = []*asl.ChoiceRule{{Condition: asl.Expr(cond), Assign: inc, Next: bodyName}}
	} else {
		init.Next = bodyName
		tail.Next = check.Name
		check.Choices = []*asl.ChoiceRule{{Condition: asl.Expr(cond), Assign: inc, Next: bodyName}}
	}
	check.Default = exit.Next
	w.linkTerminateCatch(tail)
	return initName
}

func sanitize(id string) string {
	var b strings.Builder
	for _, r := range id {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
