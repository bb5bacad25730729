package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Date/time pictures for $fromMillis, $toMillis and $now (XPath F&O 3.1
// §9.8), as jsonata-js implements them: all arithmetic is in UTC with the
// timezone applied as a fixed offset.

type dtPart struct {
	literal       bool
	value         string
	component     byte
	width         *dtWidth
	presentation1 string
	presentation2 string
	ordinal       bool
	names         int // 0 none, else caseLower/Upper/Title + 1
	intFormat     *intFormat
	n             int
}

type dtWidth struct {
	min, max int // -1 when absent
}

var defaultPresentation = map[byte]string{
	'Y': "1", 'M': "1", 'D': "1", 'd': "1", 'F': "n", 'W': "1", 'w': "1", 'X': "1", 'x': "1", 'H': "1", 'h': "1",
	'P': "n", 'm': "01", 's': "01", 'f': "1", 'Z': "01:01", 'z': "01:01", 'C': "n", 'E': "n",
}

var spaces = regexp.MustCompile(`\s+`)

func analyseDateTimePicture(picture string) []*dtPart {
	var spec []*dtPart
	addLiteral := func(start, end int) {
		if end > start {
			lit := strings.ReplaceAll(picture[start:end], "]]", "]")
			spec = append(spec, &dtPart{literal: true, value: lit})
		}
	}
	start, pos := 0, 0
	for pos < len(picture) {
		if picture[pos] == '[' {
			if pos+1 < len(picture) && picture[pos+1] == '[' {
				addLiteral(start, pos)
				spec = append(spec, &dtPart{literal: true, value: "["})
				pos += 2
				start = pos
				continue
			}
			addLiteral(start, pos)
			start = pos
			end := strings.IndexByte(picture[start:], ']')
			if end < 0 {
				panic(&Error{Code: "D3135"})
			}
			pos = start + end
			marker := spaces.ReplaceAllString(picture[start+1:pos], "")
			def := &dtPart{}
			if marker != "" {
				def.component = marker[0]
			}
			var pres string
			if comma := strings.LastIndexByte(marker, ','); comma >= 0 {
				wm := marker[comma+1:]
				parseWidth := func(s string, present bool) int {
					if !present || s == "*" {
						return -1
					}
					f := parseIntJS(s)
					if n, ok := f.(float64); ok && !math.IsNaN(n) {
						return int(n)
					}
					return -1
				}
				w := &dtWidth{}
				if dash := strings.IndexByte(wm, '-'); dash < 0 {
					w.min = parseWidth(wm, true)
					w.max = -1
				} else {
					w.min = parseWidth(wm[:dash], true)
					w.max = parseWidth(wm[dash+1:], true)
				}
				def.width = w
				pres = marker[1:comma]
			} else if len(marker) > 0 {
				pres = marker[1:]
			}
			switch {
			case len(pres) == 1:
				def.presentation1 = pres
			case len(pres) > 1:
				last := pres[len(pres)-1]
				if strings.IndexByte("atco", last) >= 0 {
					def.presentation2 = string(last)
					def.ordinal = last == 'o'
					def.presentation1 = pres[:len(pres)-1]
				} else {
					def.presentation1 = pres
				}
			default:
				p, ok := defaultPresentation[def.component]
				if !ok {
					panic(&Error{Code: "D3132", Value: string(def.component)})
				}
				def.presentation1 = p
			}
			switch {
			case def.presentation1[0] == 'n':
				def.names = caseLower + 1
			case def.presentation1[0] == 'N':
				if len(def.presentation1) > 1 && def.presentation1[1] == 'n' {
					def.names = caseTitle + 1
				} else {
					def.names = caseUpper + 1
				}
			case strings.IndexByte("YMDdFWwXxHhmsf", def.component) >= 0:
				ip := def.presentation1
				if def.presentation2 != "" {
					ip += ";" + def.presentation2
				}
				def.intFormat = analyseIntegerPicture(ip)
				if def.width != nil && def.width.min >= 0 && def.intFormat.mandatoryDigits < def.width.min {
					def.intFormat.mandatoryDigits = def.width.min
				}
				if strings.IndexByte("YMD", def.component) >= 0 {
					def.n = -1
					if def.width != nil && def.width.max >= 0 {
						def.n = def.width.max
						def.intFormat.mandatoryDigits = def.n
					} else if w := def.intFormat.mandatoryDigits + def.intFormat.optionalDigits; w >= 2 {
						def.n = w
					}
					if def.n > 0 {
						def.intFormat.n = def.n
					}
				}
			}
			if def.component == 'Z' || def.component == 'z' {
				def.intFormat = analyseIntegerPicture(def.presentation1)
			}
			spec = append(spec, def)
			start = pos + 1
		}
		pos++
	}
	addLiteral(start, pos)
	return spec
}

var (
	dayNames   = []string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

const millisInDay = 86400000

func utcMillis(year, month, day int) float64 {
	return float64(time.Date(year, time.Month(month+1), day, 0, 0, 0, 0, time.UTC).UnixMilli())
}

// startOfFirstWeek is the Monday starting week 1 of the month (ISO 8601:
// the week holding the first Thursday).
func startOfFirstWeek(year, month int) float64 {
	first := utcMillis(year, month, 1)
	dow := int(time.UnixMilli(int64(first)).UTC().Weekday())
	if dow == 0 {
		dow = 7
	}
	if dow > 4 {
		return first + float64(8-dow)*millisInDay
	}
	return first - float64(dow-1)*millisInDay
}

func nextMonth(y, m int) (int, int) {
	if m == 11 {
		return y + 1, 0
	}
	return y, m + 1
}

func prevMonth(y, m int) (int, int) {
	if m == 0 {
		return y - 1, 11
	}
	return y, m - 1
}

func deltaWeeks(start, end float64) float64 { return (end-start)/(millisInDay*7) + 1 }

// dateComponent returns a component of t (already shifted to the wanted
// offset, in UTC) as a number or a string.
func dateComponent(t time.Time, c byte) any {
	ms := float64(t.UnixMilli())
	switch c {
	case 'Y':
		return float64(t.Year())
	case 'M':
		return float64(t.Month())
	case 'D':
		return float64(t.Day())
	case 'd':
		today := utcMillis(t.Year(), int(t.Month())-1, t.Day())
		return (today-utcMillis(t.Year(), 0, 1))/millisInDay + 1
	case 'F':
		d := int(t.Weekday())
		if d == 0 {
			d = 7
		}
		return float64(d)
	case 'W':
		y := t.Year()
		start := startOfFirstWeek(y, 0)
		today := utcMillis(y, int(t.Month())-1, t.Day())
		week := deltaWeeks(start, today)
		if week > 52 {
			if today >= startOfFirstWeek(y+1, 0) {
				week = 1
			}
		} else if week < 1 {
			week = deltaWeeks(startOfFirstWeek(y-1, 0), today)
		}
		return math.Floor(week)
	case 'w':
		y, m := t.Year(), int(t.Month())-1
		start := startOfFirstWeek(y, m)
		today := utcMillis(y, m, t.Day())
		week := deltaWeeks(start, today)
		if week > 4 {
			ny, nm := nextMonth(y, m)
			if today >= startOfFirstWeek(ny, nm) {
				week = 1
			}
		} else if week < 1 {
			py, pm := prevMonth(y, m)
			week = deltaWeeks(startOfFirstWeek(py, pm), today)
		}
		return math.Floor(week)
	case 'X':
		y := t.Year()
		if ms < startOfFirstWeek(y, 0) {
			return float64(y - 1)
		} else if ms >= startOfFirstWeek(y+1, 0) {
			return float64(y + 1)
		}
		return float64(y)
	case 'x':
		y, m := t.Year(), int(t.Month())-1
		ny, nm := nextMonth(y, m)
		if ms < startOfFirstWeek(y, m) {
			_, pm := prevMonth(y, m)
			return float64(pm + 1)
		} else if ms >= startOfFirstWeek(ny, nm) {
			return float64(nm + 1)
		}
		return float64(m + 1)
	case 'H':
		return float64(t.Hour())
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return float64(h)
	case 'P':
		if t.Hour() >= 12 {
			return "pm"
		}
		return "am"
	case 'm':
		return float64(t.Minute())
	case 's':
		return float64(t.Second())
	case 'f':
		return float64(t.Nanosecond() / 1e6)
	case 'C', 'E':
		return "ISO"
	}
	return undef
}

var iso8601Picture = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"

func formatDateTime(millis float64, picture string, hasPicture bool, tz string, hasTZ bool) string {
	offH, offM := 0, 0
	if hasTZ {
		if f, ok := parseIntJS(tz).(float64); ok && !math.IsNaN(f) {
			offH = int(math.Floor(f / 100))
			offM = int(math.Mod(f, 100))
		}
	}
	if !hasPicture {
		picture = iso8601Picture
	}
	spec := analyseDateTimePicture(picture)
	offMillis := float64((60*offH + offM) * 60 * 1000)
	// a Date holds whole milliseconds, truncated towards zero
	t := time.UnixMilli(int64(math.Trunc(millis + offMillis))).UTC()
	var sb strings.Builder
	for _, part := range spec {
		if part.literal {
			sb.WriteString(part.value)
			continue
		}
		sb.WriteString(formatDateComponent(t, part, offH, offM))
	}
	return sb.String()
}

func formatDateComponent(t time.Time, p *dtPart, offH, offM int) string {
	v := dateComponent(t, p.component)
	switch {
	case strings.IndexByte("YMDdFWwXxHhms", p.component) >= 0 && p.component != 0:
		n, _ := v.(float64)
		if p.component == 'Y' && p.n != -1 && p.n != 0 {
			n = math.Mod(n, math.Pow(10, float64(p.n)))
		}
		if p.names != 0 {
			var s string
			switch p.component {
			case 'M', 'x':
				s = monthNames[int(n)-1]
			case 'F':
				s = dayNames[int(n)]
			default:
				panic(&Error{Code: "D3133", Value: string(p.component)})
			}
			switch p.names - 1 {
			case caseUpper:
				s = strings.ToUpper(s)
			case caseLower:
				s = strings.ToLower(s)
			}
			if p.width != nil && p.width.max >= 0 && len(s) > p.width.max {
				s = s[:p.width.max]
			}
			return s
		}
		if p.intFormat == nil {
			return ""
		}
		return formatIntegerValue(n, p.intFormat)
	case p.component == 'f':
		n, _ := v.(float64)
		if p.intFormat == nil {
			return ""
		}
		return formatIntegerValue(n, p.intFormat)
	case p.component == 'Z' || p.component == 'z':
		offset := offH*100 + offM
		var s string
		if p.intFormat.regular {
			s = formatIntegerValue(float64(offset), p.intFormat)
		} else {
			switch nd := p.intFormat.mandatoryDigits; nd {
			case 1, 2:
				s = formatIntegerValue(float64(offH), p.intFormat)
				if offM != 0 {
					s += ":" + formatIntegerValue(float64(offM), analyseIntegerPicture("00"))
				}
			case 3, 4:
				s = formatIntegerValue(float64(offset), p.intFormat)
			default:
				panic(&Error{Code: "D3134", Value: float64(nd)})
			}
		}
		if offset >= 0 {
			s = "+" + s
		}
		if p.component == 'z' {
			s = "GMT" + s
		}
		if offset == 0 && p.presentation2 == "t" {
			s = "Z"
		}
		return s
	case p.component == 'P':
		s, _ := v.(string)
		if p.names-1 == caseUpper {
			s = strings.ToUpper(s)
		}
		return s
	}
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func fnFromMillis(c *call, a []any) any {
	ms, ok := numArg(a[0])
	if !ok {
		return undef
	}
	pic, hasPic := a[1].(string)
	tz, hasTZ := a[2].(string)
	return formatDateTime(ms, pic, hasPic, tz, hasTZ)
}

func fnNow(c *call, a []any) any {
	ms := float64(c.env.st.now.UnixMilli())
	pic, hasPic := a[0].(string)
	tz, hasTZ := a[1].(string)
	return formatDateTime(ms, pic, hasPic, tz, hasTZ)
}

var iso8601Re = regexp.MustCompile(`^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`)

var isoParse = regexp.MustCompile(`^([+-]?\d{4,6})(?:-(\d\d)(?:-(\d\d))?)?(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?(Z|[+-]\d\d:?\d\d)?$`)

func fnToMillis(c *call, a []any) any {
	s, ok := strArg(a[0])
	if !ok {
		return undef
	}
	if pic, ok := a[1].(string); ok {
		return parseDateTime(c, s, pic)
	}
	if !iso8601Re.MatchString(s) {
		panic(&Error{Code: "D3110", Token: c.name, Value: s, Position: c.pos})
	}
	m := isoParse.FindStringSubmatch(s)
	if m == nil {
		return nil // Date.parse gives NaN, which JSON writes as null
	}
	atoi := func(x string, def int) int {
		if x == "" {
			return def
		}
		n, _ := strconv.Atoi(x)
		return n
	}
	y, mo, d := atoi(m[1], 0), atoi(m[2], 1), atoi(m[3], 1)
	h, mi, sec := atoi(m[4], 0), atoi(m[5], 0), atoi(m[6], 0)
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 59 {
		return nil
	}
	frac := m[7]
	ms := 0
	if frac != "" {
		frac = (frac + "00")[:3]
		ms = atoi(frac, 0)
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*1e6, time.UTC)
	if t.Day() != d {
		return nil
	}
	millis := float64(t.UnixMilli())
	if z := m[8]; z != "" && z != "Z" {
		z = strings.ReplaceAll(z, ":", "")
		oh, _ := strconv.Atoi(z[1:3])
		om, _ := strconv.Atoi(z[3:5])
		off := float64((oh*60 + om) * 60000)
		if z[0] == '+' {
			millis -= off
		} else {
			millis += off
		}
	}
	return millis
}

type dtMatcher struct {
	regex     string
	parse     func(string) any
	component byte
}

func parseDateTime(c *call, s, picture string) any {
	spec := analyseDateTimePicture(picture)
	var parts []dtMatcher
	for _, p := range spec {
		var m dtMatcher
		switch {
		case p.literal:
			m.regex = regexp.QuoteMeta(p.value)
		case p.component == 'Z' || p.component == 'z':
			var sep *groupSep
			if p.intFormat.regular {
				s := p.intFormat.regularSep
				sep = &s
			}
			if p.component == 'z' {
				m.regex = "GMT"
			}
			m.regex += "[-+][0-9]+"
			if sep != nil {
				m.regex += regexp.QuoteMeta(sep.char) + "[0-9]+"
			}
			comp := p.component
			m.parse = func(v string) any {
				if comp == 'z' && len(v) >= 3 {
					v = v[3:]
				}
				var oh, om float64
				num := func(x string) float64 {
					f, _ := parseIntJS(x).(float64)
					return f
				}
				if sep != nil {
					i := strings.Index(v, sep.char)
					oh = num(v[:i])
					om = num(v[i+len(sep.char):])
				} else if len(v)-1 <= 2 {
					oh = num(v)
				} else {
					oh = num(v[:3])
					om = num(v[3:])
				}
				return oh*60 + om
			}
		case p.intFormat != nil:
			im := integerMatcher(p.intFormat)
			m.regex, m.parse = im.regex, im.parse
		default:
			m.regex = "[a-zA-Z]+"
			lookup := map[string]float64{}
			switch p.component {
			case 'M', 'x':
				for i, n := range monthNames {
					if p.width != nil && p.width.max > 0 && p.width.max < len(n) {
						n = n[:p.width.max]
					}
					lookup[n] = float64(i + 1)
				}
			case 'F':
				for i, n := range dayNames[1:] {
					if p.width != nil && p.width.max > 0 && p.width.max < len(n) {
						n = n[:p.width.max]
					}
					lookup[n] = float64(i + 1)
				}
			case 'P':
				lookup = map[string]float64{"am": 0, "AM": 0, "pm": 1, "PM": 1}
			default:
				panic(&Error{Code: "D3133", Value: string(p.component)})
			}
			m.parse = func(v string) any {
				if n, ok := lookup[v]; ok {
					return n
				}
				return undef
			}
		}
		m.component = p.component
		parts = append(parts, m)
	}
	var sb strings.Builder
	sb.WriteString("(?i)^")
	for _, p := range parts {
		sb.WriteString("(" + p.regex + ")")
	}
	sb.WriteString("$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return undef
	}
	info := re.FindStringSubmatch(s)
	if info == nil {
		return undef
	}
	comps := map[byte]any{}
	for i := 1; i < len(info); i++ {
		if p := parts[i-1]; p.parse != nil {
			comps[p.component] = p.parse(info[i])
		}
	}
	if len(comps) == 0 {
		return undef
	}
	truthy := func(c byte) bool {
		v, ok := comps[c]
		if !ok {
			return false
		}
		f, ok := v.(float64)
		return ok && f != 0 && !math.IsNaN(f)
	}
	mask := 0
	shift := func(b bool) {
		mask <<= 1
		if b {
			mask++
		}
	}
	isType := func(t int) bool { return ^t&mask == 0 && t&mask != 0 }
	for _, p := range []byte("YXMxWwdD") {
		shift(truthy(p))
	}
	dateA := isType(161)
	dateB := !dateA && isType(130)
	dateC := isType(84)
	dateD := !dateC && isType(72)
	mask = 0
	for _, p := range []byte("PHhmsf") {
		shift(truthy(p))
	}
	timeA := isType(23)
	timeB := !timeA && isType(47)
	dateComps := "YMD"
	switch {
	case dateB:
		dateComps = "YD"
	case dateC:
		dateComps = "XxwF"
	case dateD:
		dateComps = "XWF"
	}
	timeComps := "Hmsf"
	if timeB {
		timeComps = "Phmsf"
	}
	now := c.env.st.now.UTC()
	startSpecified, endSpecified := false, false
	for _, p := range []byte(dateComps + timeComps) {
		if v, ok := comps[p]; !ok || isUndef(v) {
			if startSpecified {
				if strings.IndexByte("MDd", p) >= 0 {
					comps[p] = 1.0
				} else {
					comps[p] = 0.0
				}
				endSpecified = true
			} else {
				comps[p] = dateComponent(now, p)
			}
		} else {
			startSpecified = true
			if endSpecified {
				panic(&Error{Code: "D3136", Token: c.name, Position: c.pos})
			}
		}
	}
	num := func(p byte) float64 {
		f, _ := comps[p].(float64)
		return f
	}
	month := num('M')
	if month > 0 {
		month--
	} else {
		month = 0
	}
	day := num('D')
	// Date.UTC reads years 0 to 99 as 1900 to 1999
	year := num('Y')
	if year >= 0 && year <= 99 {
		year += 1900
	}
	if dateB {
		first := utcMillis(int(year), 0, 1)
		d := time.UnixMilli(int64(first + (num('d')-1)*millisInDay)).UTC()
		month = float64(d.Month() - 1)
		day = float64(d.Day())
	}
	if dateC || dateD {
		panic(&Error{Code: "D3136", Token: c.name, Position: c.pos})
	}
	hour := num('H')
	if timeB {
		hour = num('h')
		if hour == 12 {
			hour = 0
		}
		if num('P') == 1 {
			hour += 12
		}
	}
	for _, p := range []byte("YDmsf") {
		if f, ok := comps[p].(float64); ok && math.IsNaN(f) {
			return nil
		}
	}
	t := time.Date(int(year), time.January, 1, 0, 0, 0, 0, time.UTC)
	t = t.AddDate(0, int(month), int(day)-1)
	millis := float64(t.UnixMilli()) + hour*3600000 + num('m')*60000 + num('s')*1000 + num('f')
	if z := num('Z'); z != 0 {
		millis -= z * 60000
	} else if z := num('z'); z != 0 {
		millis -= z * 60000
	}
	return millis
}
