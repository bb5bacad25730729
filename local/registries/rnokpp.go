package registries

import (
	"fmt"
	"time"
)

// rnokppEpoch is day zero of the RNOKPP birth-date field: the first five
// digits count days since 31 December 1899.
var rnokppEpoch = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)

// rnokppWeights are the weights of the first nine digits in the check digit.
var rnokppWeights = [9]int{-1, 5, 7, 9, 4, 6, 10, 5, 7}

// ValidTaxNumber reports whether s is a well-formed RNOKPP (individual tax
// number): ten digits whose last is the check digit of the first nine.
func ValidTaxNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if i < 9 {
			sum += int(s[i]-'0') * rnokppWeights[i]
		}
	}
	check := ((sum % 11) + 11) % 11 % 10
	return int(s[9]-'0') == check
}

// TaxNumber builds the RNOKPP of a person born on birth with serial (0–999;
// the sex digit is appended: odd for men, even for women).
func TaxNumber(birth time.Time, serial int, male bool) string {
	days := int(birth.Sub(rnokppEpoch).Hours() / 24)
	sex := 2 * (serial % 5)
	if male {
		sex++
	}
	base := fmt.Sprintf("%05d%03d%d", days, serial%1000, sex)
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(base[i]-'0') * rnokppWeights[i]
	}
	return base + fmt.Sprint(((sum%11)+11)%11%10)
}
