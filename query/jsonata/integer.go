package jsonata

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Integer pictures ($formatInteger, $parseInteger and the integer
// components of date/time pictures), per XPath F&O 3.1 §4.6.1 as jsonata-js
// implements it.

const (
	fmtDecimal = iota
	fmtLetters
	fmtRoman
	fmtWords
	fmtSequence
)

const (
	caseLower = iota
	caseUpper
	caseTitle
)

type groupSep struct {
	position int
	char     string
}

type intFormat struct {
	primary         int
	tcase           int
	ordinal         bool
	zeroCode        rune
	mandatoryDigits int
	optionalDigits  int
	regular         bool
	regularSep      groupSep
	separators      []groupSep
	token           string
	n               int // fixed width when parsing a date/time component, 0 when free
}

var decimalGroups = []rune{0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10}

func analyseIntegerPicture(picture string) *intFormat {
	f := &intFormat{primary: fmtDecimal, tcase: caseLower}
	primary := picture
	if semi := strings.LastIndexByte(picture, ';'); semi >= 0 {
		primary = picture[:semi]
		if strings.HasPrefix(picture[semi+1:], "o") {
			f.ordinal = true
		}
	}
	switch primary {
	case "A":
		f.tcase = caseUpper
		f.primary = fmtLetters
	case "a":
		f.primary = fmtLetters
	case "I":
		f.tcase = caseUpper
		f.primary = fmtRoman
	case "i":
		f.primary = fmtRoman
	case "W":
		f.tcase = caseUpper
		f.primary = fmtWords
	case "Ww":
		f.tcase = caseTitle
		f.primary = fmtWords
	case "w":
		f.primary = fmtWords
	default:
		zero := rune(-1)
		mandatory, optional, sepPos := 0, 0, 0
		var seps []groupSep
		units := utf16Units(primary)
		for i := len(units) - 1; i >= 0; i-- {
			cp := rune(units[i])
			digit := false
			for _, g := range decimalGroups {
				if cp >= g && cp <= g+9 {
					digit = true
					mandatory++
					sepPos++
					if zero < 0 {
						zero = g
					} else if g != zero {
						panic(&Error{Code: "D3131"})
					}
					break
				}
			}
			if !digit {
				if cp == '#' {
					sepPos++
					optional++
				} else {
					seps = append(seps, groupSep{position: sepPos, char: string(cp)})
				}
			}
		}
		if mandatory > 0 {
			f.zeroCode = zero
			f.mandatoryDigits = mandatory
			f.optionalDigits = optional
			if r := regularRepeat(seps); r > 0 {
				f.regular = true
				f.regularSep = groupSep{position: r, char: seps[0].char}
			} else {
				f.separators = seps
			}
		} else {
			f.primary = fmtSequence
			f.token = primary
		}
	}
	return f
}

func gcd(a, b int) int {
	if b == 0 {
		return a
	}
	return gcd(b, a%b)
}

func regularRepeat(seps []groupSep) int {
	if len(seps) == 0 {
		return 0
	}
	for _, s := range seps[1:] {
		if s.char != seps[0].char {
			return 0
		}
	}
	factor := seps[0].position
	for _, s := range seps[1:] {
		factor = gcd(factor, s.position)
	}
	for i := 1; i <= len(seps); i++ {
		found := false
		for _, s := range seps {
			if s.position == i*factor {
				found = true
			}
		}
		if !found {
			return 0
		}
	}
	return factor
}

func formatIntegerValue(v float64, f *intFormat) string {
	neg := v < 0
	v = math.Abs(v)
	var out string
	switch f.primary {
	case fmtLetters:
		a := 'a'
		if f.tcase == caseUpper {
			a = 'A'
		}
		out = decimalToLetters(int64(v), a)
	case fmtRoman:
		out = decimalToRoman(int64(v))
		if f.tcase == caseUpper {
			out = strings.ToUpper(out)
		}
	case fmtWords:
		out = numberToWords(v, f.ordinal)
		if f.tcase == caseUpper {
			out = strings.ToUpper(out)
		} else if f.tcase == caseLower {
			out = strings.ToLower(out)
		}
	case fmtDecimal:
		out = formatJSInteger(v)
		if pad := f.mandatoryDigits - len(out); pad > 0 {
			out = strings.Repeat("0", pad) + out
		}
		if f.zeroCode != '0' {
			rs := []rune(out)
			for i, r := range rs {
				rs[i] = r + f.zeroCode - '0'
			}
			out = string(rs)
		}
		if f.regular {
			rs := []rune(out)
			n := (len(rs) - 1) / f.regularSep.position
			for i := n; i > 0; i-- {
				rs = []rune(out)
				pos := len(rs) - i*f.regularSep.position
				out = string(rs[:pos]) + f.regularSep.char + string(rs[pos:])
			}
		} else {
			for i := len(f.separators) - 1; i >= 0; i-- {
				// JavaScript's substr: a negative length gives "" and a
				// negative start counts from the end, which loses digits
				// for odd pictures; jsonata-js does exactly that
				s := f.separators[i]
				rs := []rune(out)
				pos := len(rs) - s.position
				head, tail := "", string(rs[max(pos, 0):])
				if pos > 0 {
					head = string(rs[:pos])
				} else if pos < 0 {
					tail = string(rs[max(len(rs)+pos, 0):])
				}
				out = head + s.char + tail
			}
		}
		if f.ordinal {
			rs := []rune(out)
			last := rs[len(rs)-1]
			suffix := map[rune]string{'1': "st", '2': "nd", '3': "rd"}[last]
			if suffix == "" || (len(rs) > 1 && rs[len(rs)-2] == '1') {
				suffix = "th"
			}
			out += suffix
		}
	case fmtSequence:
		panic(&Error{Code: "D3130", Value: f.token})
	}
	if neg {
		out = "-" + out
	}
	return out
}

// formatJSInteger is ” + n for an integral n.
func formatJSInteger(v float64) string {
	return toJSString(v)
}

func decimalToLetters(v int64, a rune) string {
	var letters []rune
	for v > 0 {
		letters = append([]rune{rune((v-1)%26) + a}, letters...)
		v = (v - 1) / 26
	}
	return string(letters)
}

var romanNumerals = []struct {
	v int64
	s string
}{{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"}, {40, "xl"}, {10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}}

func decimalToRoman(v int64) string {
	var sb strings.Builder
	for v > 0 {
		for _, r := range romanNumerals {
			if v >= r.v {
				sb.WriteString(r.s)
				v -= r.v
				break
			}
		}
		if sb.Len() > 100000 {
			break
		}
	}
	return sb.String()
}

var (
	fewWords     = []string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"}
	ordinalWords = []string{"Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"}
	decadeWords  = []string{"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"}
	magnitudes   = []string{"Thousand", "Million", "Billion", "Trillion"}
)

func numberToWords(v float64, ordinal bool) string {
	var lookup func(num float64, prev, ord bool) string
	lookup = func(num float64, prev, ord bool) string {
		words := ""
		switch {
		case num <= 19:
			if prev {
				words = " and "
			}
			if ord {
				words += ordinalWords[int(num)]
			} else {
				words += fewWords[int(num)]
			}
		case num < 100:
			tens := int(num / 10)
			rem := math.Mod(num, 10)
			if prev {
				words = " and "
			}
			words += decadeWords[tens-2]
			if rem > 0 {
				words += "-" + lookup(rem, false, ord)
			} else if ord {
				words = words[:len(words)-1] + "ieth"
			}
		case num < 1000:
			hundreds := int(num / 100)
			rem := math.Mod(num, 100)
			if prev {
				words = ", "
			}
			words += fewWords[hundreds] + " Hundred"
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		default:
			mag := int(math.Floor(math.Log10(num) / 3))
			if mag > len(magnitudes) {
				mag = len(magnitudes)
			}
			factor := math.Pow(10, float64(mag*3))
			mant := math.Floor(num / factor)
			rem := num - mant*factor
			if prev {
				words = ", "
			}
			words += lookup(mant, false, false) + " " + magnitudes[mag-1]
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		}
		return words
	}
	return lookup(v, false, ordinal)
}

var wordValues = func() map[string]float64 {
	m := map[string]float64{}
	for i, w := range fewWords {
		m[strings.ToLower(w)] = float64(i)
	}
	for i, w := range ordinalWords {
		m[strings.ToLower(w)] = float64(i)
	}
	for i, w := range decadeWords {
		lw := strings.ToLower(w)
		m[lw] = float64((i + 2) * 10)
		m[lw[:len(lw)-1]+"ieth"] = m[lw]
	}
	m["hundredth"] = 100
	for i, w := range magnitudes {
		lw := strings.ToLower(w)
		v := math.Pow(10, float64((i+1)*3))
		m[lw] = v
		m[lw+"th"] = v
	}
	return m
}()

var wordSplit = regexp.MustCompile(`,\s|\sand\s|[\s\\-]`)

func wordsToNumber(text string) float64 {
	parts := wordSplit.Split(text, -1)
	segs := []float64{0}
	for _, p := range parts {
		v, ok := wordValues[p]
		if !ok {
			v = math.NaN()
		}
		if v < 100 {
			top := segs[len(segs)-1]
			segs = segs[:len(segs)-1]
			if top >= 1000 {
				segs = append(segs, top)
				top = 0
			}
			segs = append(segs, top+v)
		} else {
			top := segs[len(segs)-1]
			segs[len(segs)-1] = top * v
		}
	}
	total := 0.0
	for _, s := range segs {
		total += s
	}
	return total
}

func lettersToDecimal(s string, a rune) float64 {
	total := 0.0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		total += float64(rs[len(rs)-i-1]-a+1) * math.Pow(26, float64(i))
	}
	return total
}

var romanValues = map[rune]float64{'M': 1000, 'D': 500, 'C': 100, 'L': 50, 'X': 10, 'V': 5, 'I': 1}

func romanToDecimal(s string) float64 {
	total, max := 0.0, 1.0
	rs := []rune(s)
	for i := len(rs) - 1; i >= 0; i-- {
		v := romanValues[rs[i]]
		if v < max {
			total -= v
		} else {
			max = v
			total += v
		}
	}
	return total
}

// intMatcher is a regex fragment matching a formatted integer, and its parser.
type intMatcher struct {
	regex string
	parse func(string) any
}

var wordsRegex = func() string {
	keys := make([]string, 0, len(wordValues))
	for k := range wordValues {
		keys = append(keys, k)
	}
	// longest first, so that the alternation prefers whole words as a
	// backtracking engine would find them
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	return "(?:" + strings.Join(append(keys, "and", `[\-, ]`), "|") + ")+"
}()

func integerMatcher(f *intFormat) intMatcher {
	upper := f.tcase == caseUpper
	switch f.primary {
	case fmtLetters:
		a := 'a'
		re := "[a-z]+"
		if upper {
			a, re = 'A', "[A-Z]+"
		}
		return intMatcher{re, func(s string) any { return lettersToDecimal(s, a) }}
	case fmtRoman:
		re := "[mdclxvi]+"
		if upper {
			re = "[MDCLXVI]+"
		}
		return intMatcher{re, func(s string) any { return romanToDecimal(strings.ToUpper(s)) }}
	case fmtWords:
		return intMatcher{wordsRegex, func(s string) any { return wordsToNumber(strings.ToLower(s)) }}
	case fmtDecimal:
		occ := "+"
		if f.n > 0 {
			if f.optionalDigits == 0 {
				occ = "{" + strconv.Itoa(f.n) + "}"
			} else {
				occ = "{" + strconv.Itoa(f.n-f.optionalDigits) + "," + strconv.Itoa(f.n) + "}"
			}
		}
		re := "[0-9]" + occ
		if f.ordinal {
			re += "(?:th|st|nd|rd)"
		}
		return intMatcher{re, func(s string) any {
			digits := s
			if f.ordinal && len(digits) >= 2 {
				digits = digits[:len(digits)-2]
			}
			if f.regular {
				digits = strings.ReplaceAll(digits, ",", "")
			} else {
				for _, sep := range f.separators {
					digits = strings.ReplaceAll(digits, sep.char, "")
				}
			}
			if f.zeroCode != '0' {
				rs := []rune(digits)
				for i, r := range rs {
					rs[i] = r - f.zeroCode + '0'
				}
				digits = string(rs)
			}
			return parseIntJS(digits)
		}}
	}
	panic(&Error{Code: "D3130", Value: f.token})
}

// parseIntJS is parseInt(s) for decimal digits: NaN when none lead.
func parseIntJS(s string) any {
	s = strings.TrimLeft(s, " \t\n\r")
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(s[:j], 64)
	return f
}

func fnFormatInteger(c *call, a []any) any {
	v, ok := numArg(a[0])
	if !ok {
		return undef
	}
	pic, _ := strArg(a[1])
	return formatIntegerValue(math.Floor(v), analyseIntegerPicture(pic))
}

func fnParseInteger(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	pic, _ := strArg(a[1])
	m := integerMatcher(analyseIntegerPicture(pic))
	return m.parse(s)
}
