package jsonata

import (
	"strings"
	"unicode"
)

// JavaScript's toUpperCase and toLowerCase apply Unicode's full case
// mappings (SpecialCasing.txt, the unconditional part, and the final sigma
// rule); Go's strings package applies the simple one-to-one mappings.

var upperSpecial = map[rune]string{
	'ß': "SS", 'ŉ': "ʼN", 'ǰ': "J̌", 'ΐ': "Ϊ́", 'ΰ': "Ϋ́", 'և': "ԵՒ",
	'ẖ': "H̱", 'ẗ': "T̈", 'ẘ': "W̊", 'ẙ': "Y̊", 'ẚ': "Aʾ",
	'ﬀ': "FF", 'ﬁ': "FI", 'ﬂ': "FL", 'ﬃ': "FFI", 'ﬄ': "FFL", 'ﬅ': "ST", 'ﬆ': "ST",
	'ﬓ': "ՄՆ", 'ﬔ': "ՄԵ", 'ﬕ': "ՄԻ", 'ﬖ': "ՎՆ", 'ﬗ': "ՄԽ",
}

func jsUpper(s string) string {
	if isASCII(s) {
		return strings.ToUpper(s)
	}
	var sb strings.Builder
	for _, r := range s {
		if x, ok := upperSpecial[r]; ok {
			sb.WriteString(x)
			continue
		}
		sb.WriteRune(unicode.ToUpper(r))
	}
	return sb.String()
}

func jsLower(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var sb strings.Builder
	for i, r := range rs {
		switch r {
		case 'İ':
			sb.WriteString("i̇")
			continue
		case 'Σ':
			// final sigma: preceded by a letter and not followed by one
			before := i > 0 && unicode.IsLetter(rs[i-1])
			after := i+1 < len(rs) && unicode.IsLetter(rs[i+1])
			if before && !after {
				sb.WriteRune('ς')
				continue
			}
		}
		sb.WriteRune(unicode.ToLower(r))
	}
	return sb.String()
}
