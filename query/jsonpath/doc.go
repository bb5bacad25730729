// Package jsonpath compiles and evaluates the JSONPath dialect that AWS Step
// Functions accepts in JSONPath-mode states (InputPath, Parameters, ResultPath,
// ItemsPath, Choice variables, intrinsic arguments). Step Functions uses
// Jayway JsonPath, so this package follows Jayway: "$", "$$" and "$var"
// roots, dot and bracket members, indexes (negative too), wildcards, slices
// (plus an optional positive step), index and name unions, deep scan,
// filters with && || ! and the comparison operators ==, !=, <, <=, >, >=,
// =~ /regex/i, in, nin, contains, size, empty, subsetof, anyof, noneof, and
// a trailing function (length(), min(), max(), avg(), sum(), stddev(),
// first(), last(), keys()).
//
// Get returns one value for a definite path and a list for an indefinite
// one; missing data under a wildcard, slice or filter yields [] as on AWS.
// Set writes with ResultPath semantics and never modifies its input.
//
// Error texts follow Jayway's wording because AWS embeds them in its
// States.Runtime causes and the engine reports them verbatim:
// "No results for path: $['a']['b']" and "Missing property in path $['a']"
// are confirmed by recorded AWS executions. The texts for a property on a
// non-object or an index on a non-array follow Jayway's messages but name
// the JSON type where Jayway names a Java class; AWS's exact words there are
// unverified.
//
// Filter comparisons are strict about types: a number never equals a
// string, and only two numbers or two strings can be ordered.
package jsonpath
