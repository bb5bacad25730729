// Package value is the JSON data model shared by the query languages and the
// engine: nil, bool, float64, string, []any and *Object. Objects keep their
// members in insertion order, because JSONata's $keys, $spread and the wildcard
// step, and the order of a state's output, are observable; Go maps would
// shuffle them.
//
// Numbers are IEEE doubles, as in JSONata (JavaScript) and as Step Functions
// reports them; they print the way JavaScript's JSON.stringify prints them.
package value
