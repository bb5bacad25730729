package dynamodb

import "sort"

// chunkMax bounds one chunk of a sorted entry list. Inserting into a plain
// sorted slice moves O(n) pointers, which a low-cardinality GSI (900k
// applications under status "submitted") cannot afford; chunks keep every
// insert and delete to at most chunkMax moves plus a search over chunks.
const chunkMax = 512

// entries is a sorted list of entries split into chunks.
type entries struct {
	chunks [][]*entry
	n      int
}

// pos addresses one entry: chunk and index within it.
type pos struct{ c, i int }

func (e *entries) len() int { return e.n }

// search returns the position of the first entry not below (sort, tie) and
// whether it equals it; the position may be the end.
func (e *entries) search(sortV *AV, tie string) (pos, bool) {
	c := sort.Search(len(e.chunks), func(c int) bool {
		ch := e.chunks[c]
		return cmpEntry(sortV, tie, ch[len(ch)-1]) <= 0
	})
	if c == len(e.chunks) {
		return e.end(), false
	}
	ch := e.chunks[c]
	i := sort.Search(len(ch), func(i int) bool { return cmpEntry(sortV, tie, ch[i]) <= 0 })
	return pos{c, i}, cmpEntry(sortV, tie, ch[i]) == 0
}

func (e *entries) end() pos { return pos{len(e.chunks), 0} }

func (e *entries) valid(p pos) bool {
	return p.c >= 0 && p.c < len(e.chunks) && p.i >= 0 && p.i < len(e.chunks[p.c])
}

func (e *entries) at(p pos) *entry { return e.chunks[p.c][p.i] }

func (e *entries) first() pos { return pos{0, 0} }

func (e *entries) last() pos {
	if len(e.chunks) == 0 {
		return pos{-1, 0}
	}
	return pos{len(e.chunks) - 1, len(e.chunks[len(e.chunks)-1]) - 1}
}

func (e *entries) next(p pos) pos {
	p.i++
	if p.i >= len(e.chunks[p.c]) {
		return pos{p.c + 1, 0}
	}
	return p
}

// prev steps back; before the first entry it returns an invalid position.
func (e *entries) prev(p pos) pos {
	if p.c >= len(e.chunks) {
		return e.last()
	}
	p.i--
	if p.i < 0 {
		if p.c == 0 {
			return pos{-1, 0}
		}
		return pos{p.c - 1, len(e.chunks[p.c-1]) - 1}
	}
	return p
}

// insert puts en at p (as returned by search).
func (e *entries) insert(p pos, en *entry) {
	e.n++
	if len(e.chunks) == 0 {
		e.chunks = [][]*entry{{en}}
		return
	}
	if p.c == len(e.chunks) {
		p = pos{p.c - 1, len(e.chunks[p.c-1])}
	}
	ch := append(e.chunks[p.c], nil)
	copy(ch[p.i+1:], ch[p.i:])
	ch[p.i] = en
	if len(ch) <= chunkMax {
		e.chunks[p.c] = ch
		return
	}
	half := len(ch) / 2
	right := append([]*entry(nil), ch[half:]...)
	clear(ch[half:])
	e.chunks = append(e.chunks, nil)
	copy(e.chunks[p.c+2:], e.chunks[p.c+1:])
	e.chunks[p.c], e.chunks[p.c+1] = ch[:half], right
}

func (e *entries) remove(p pos) {
	e.n--
	ch := e.chunks[p.c]
	copy(ch[p.i:], ch[p.i+1:])
	ch[len(ch)-1] = nil
	ch = ch[:len(ch)-1]
	if len(ch) == 0 {
		e.chunks = append(e.chunks[:p.c], e.chunks[p.c+1:]...)
		return
	}
	e.chunks[p.c] = ch
}

// each calls fn for every entry in order.
func (e *entries) each(fn func(*entry)) {
	for _, ch := range e.chunks {
		for _, en := range ch {
			fn(en)
		}
	}
}
