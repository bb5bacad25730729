package jsonpath

import (
	"math"
	"sort"
	"strings"

	"github.com/posluha/posluha/query/value"
)

// NoResultsError is returned by Get when a definite path cannot be
// followed. Msg is Jayway's wording, which AWS embeds in its States.Runtime
// cause ("Invalid path '<Path>' : <Msg>"):
//   - "No results for path: $['a']['b']" when the last step is missing
//     (Normalized is the whole path);
//   - "Missing property in path $['a']" when an inner property is missing
//     (the path up to and including that property).
type NoResultsError struct {
	Path       string // the path as written
	Normalized string // the whole path in Jayway form, $['a']['b'][0]
	Msg        string
}

// Error returns Msg, the Jayway text.
func (e *NoResultsError) Error() string { return e.Msg }

// Get evaluates p against doc, the root value the caller chose for Root().
//
// A definite path returns the value it names, or a *NoResultsError when
// there is none. An indefinite path returns a []any of the matches, empty
// when nothing matches; as on AWS, missing data is not an error then. A
// trailing function (.length()) is applied to that value or list.
func (p *Path) Get(doc any) (any, error) {
	if p.definite {
		v, err := p.getDefinite(doc)
		if err != nil {
			return nil, err
		}
		if p.fn != "" {
			return applyFunc(p.fn, v), nil
		}
		return v, nil
	}
	e := evaluator{root: doc}
	e.walk(p.segs, doc)
	out := e.out
	if out == nil {
		out = []any{}
	}
	if p.fn != "" {
		return applyFunc(p.fn, out), nil
	}
	return out, nil
}

// getDefinite walks a definite path without allocating: this is the
// engine's hot path (InputPath, Parameters, Choice variables).
func (p *Path) getDefinite(doc any) (any, error) {
	cur := doc
	last := len(p.segs) - 1
	for i := range p.segs {
		s := &p.segs[i]
		switch s.kind {
		case segName:
			o, ok := cur.(*value.Object)
			if !ok {
				return nil, p.notObject(i, cur)
			}
			v, ok := o.Get(s.name)
			if !ok {
				if i == last {
					return nil, p.noResults()
				}
				return nil, &NoResultsError{Path: p.src, Normalized: p.norm,
					Msg: "Missing property in path " + p.normalizedPrefix(i+1)}
			}
			cur = v
		case segNames: // only as the last step: Jayway merges into one object
			o, ok := cur.(*value.Object)
			if !ok {
				return nil, p.notObject(i, cur)
			}
			merged := value.NewObject(len(s.names))
			for _, n := range s.names {
				if v, ok := o.Get(n); ok {
					merged.Set(n, v)
				}
			}
			cur = merged
		case segIndex:
			a, ok := cur.([]any)
			if !ok {
				return nil, p.notArray(i, cur)
			}
			idx := s.index
			if idx < 0 {
				idx += len(a)
			}
			if idx < 0 || idx >= len(a) {
				// Jayway skips an index out of range silently, so the
				// whole path just has no result.
				return nil, p.noResults()
			}
			cur = a[idx]
		}
	}
	return cur, nil
}

func (p *Path) noResults() error {
	return &NoResultsError{Path: p.src, Normalized: p.norm, Msg: "No results for path: " + p.norm}
}

// notObject follows Jayway's PropertyPathToken message. Jayway names the
// Java class it found; we name the JSON type instead.
func (p *Path) notObject(i int, v any) error {
	var b strings.Builder
	p.segs[i].appendNormalized(&b)
	return &NoResultsError{Path: p.src, Normalized: p.norm,
		Msg: "Expected to find an object with property " + b.String() + " in path " +
			p.normalizedPrefix(i) + " but found '" + value.TypeName(v) + "'"}
}

// notArray follows Jayway's ArrayPathToken messages; like Jayway it shows
// the token together with the rest of the path after it.
func (p *Path) notArray(i int, v any) error {
	if v == nil {
		return &NoResultsError{Path: p.src, Normalized: p.norm,
			Msg: "The path " + p.normalizedPrefix(i) + " is null"}
	}
	var b strings.Builder
	for j := i; j < len(p.segs); j++ {
		p.segs[j].appendNormalized(&b)
	}
	return &NoResultsError{Path: p.src, Normalized: p.norm,
		Msg: "Filter: " + b.String() + " can only be applied to arrays. Current context is: " + value.String(v)}
}

// evaluator collects the matches of an indefinite path.
type evaluator struct {
	root any // what "$" means inside filters
	out  []any
}

func (e *evaluator) walk(segs []segment, cur any) {
	if len(segs) == 0 {
		e.out = append(e.out, cur)
		return
	}
	if segs[0].deep {
		e.deep(&segs[0], segs[1:], cur)
		return
	}
	e.step(&segs[0], segs[1:], cur)
}

// deep applies s to cur and then to every descendant, parents first, the
// order Jayway's scan produces.
func (e *evaluator) deep(s *segment, rest []segment, cur any) {
	e.step(s, rest, cur)
	switch t := cur.(type) {
	case *value.Object:
		for _, m := range t.Members() {
			e.deep(s, rest, m.Value)
		}
	case []any:
		for _, v := range t {
			e.deep(s, rest, v)
		}
	}
}

func (e *evaluator) step(s *segment, rest []segment, cur any) {
	switch s.kind {
	case segName:
		if o, ok := cur.(*value.Object); ok {
			if v, ok := o.Get(s.name); ok {
				e.walk(rest, v)
			}
		}
	case segNames:
		o, ok := cur.(*value.Object)
		if !ok {
			return
		}
		if len(rest) == 0 && !s.deep {
			merged := value.NewObject(len(s.names))
			for _, n := range s.names {
				if v, ok := o.Get(n); ok {
					merged.Set(n, v)
				}
			}
			e.out = append(e.out, merged)
			return
		}
		for _, n := range s.names {
			if v, ok := o.Get(n); ok {
				e.walk(rest, v)
			}
		}
	case segIndex:
		if a, ok := cur.([]any); ok {
			if v, ok := index(a, s.index); ok {
				e.walk(rest, v)
			}
		}
	case segIndexes:
		if a, ok := cur.([]any); ok {
			for _, i := range s.indexes {
				if v, ok := index(a, i); ok {
					e.walk(rest, v)
				}
			}
		}
	case segSlice:
		if a, ok := cur.([]any); ok {
			from, to := sliceBounds(s, len(a))
			for i := from; i < to; i += s.step {
				e.walk(rest, a[i])
			}
		}
	case segWild:
		switch t := cur.(type) {
		case *value.Object:
			for _, m := range t.Members() {
				e.walk(rest, m.Value)
			}
		case []any:
			for _, v := range t {
				e.walk(rest, v)
			}
		}
	case segFilter:
		switch t := cur.(type) {
		case []any:
			for _, v := range t {
				if s.filter.test(e, v) {
					e.walk(rest, v)
				}
			}
		case *value.Object:
			// Jayway applies a filter on an object to the object itself.
			if s.filter.test(e, t) {
				e.walk(rest, t)
			}
		}
	}
}

func index(a []any, i int) (any, bool) {
	if i < 0 {
		i += len(a)
	}
	if i < 0 || i >= len(a) {
		return nil, false
	}
	return a[i], true
}

// sliceBounds resolves [from:to] against n elements the way Jayway does:
// negative bounds count from the end, and both are clamped to [0, n].
func sliceBounds(s *segment, n int) (int, int) {
	from, to := 0, n
	if s.hasFrom {
		from = s.from
		if from < 0 {
			from += n
		}
	}
	if s.hasTo {
		to = s.to
		if to < 0 {
			to += n
		}
	}
	from = max(0, min(from, n))
	to = max(0, min(to, n))
	return from, to
}

// applyFunc evaluates a trailing Jayway function; a function that does not
// apply to v yields null.
func applyFunc(fn string, v any) any {
	switch fn {
	case "length", "size":
		switch t := v.(type) {
		case []any:
			return float64(len(t))
		case *value.Object:
			return float64(t.Len())
		case string:
			return float64(len([]rune(t)))
		}
		return nil
	case "keys":
		if o, ok := v.(*value.Object); ok {
			keys := make([]any, 0, o.Len())
			for _, k := range o.Keys() {
				keys = append(keys, k)
			}
			return keys
		}
		return nil
	case "first", "last":
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return nil
		}
		if fn == "first" {
			return a[0]
		}
		return a[len(a)-1]
	}
	// Numeric aggregates over the numbers of an array.
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	var nums []float64
	for _, x := range a {
		if f, ok := x.(float64); ok {
			nums = append(nums, f)
		}
	}
	if len(nums) == 0 {
		return nil
	}
	sum := 0.0
	for _, f := range nums {
		sum += f
	}
	switch fn {
	case "sum":
		return sum
	case "avg":
		return sum / float64(len(nums))
	case "min", "max":
		sort.Float64s(nums)
		if fn == "min" {
			return nums[0]
		}
		return nums[len(nums)-1]
	case "stddev":
		mean := sum / float64(len(nums))
		var sq float64
		for _, f := range nums {
			sq += (f - mean) * (f - mean)
		}
		return math.Sqrt(sq / float64(len(nums)))
	}
	return nil
}
