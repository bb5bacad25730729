package jsonata

// Behaviour notes (where this package and jsonata-js 2.0.6 can differ, and why):
//
//   - Regular expressions are translated from JavaScript syntax to Go's RE2.
//     Backreferences and lookaround have no RE2 equivalent: such a literal
//     fails to compile with code S0303. Case-insensitive matching uses
//     Unicode simple folding in both.
//   - Strings are UTF-8. Offsets that JavaScript counts in UTF-16 units
//     (regex match positions, $split with "") are counted the same way; a
//     lone surrogate written as "\ud800" in a string literal is kept as its
//     WTF-8 bytes, which is enough for $encodeUrlComponent to reject it, but
//     it prints as U+FFFD.
//   - Objects keep insertion order, except that keys which are array indices
//     ("0", "42") come first in ascending order wherever jsonata-js would
//     enumerate a JavaScript object ($keys, $each, $sift, $spread, *, **,
//     results): that is JavaScript's own key order.
//   - A result that JSON cannot hold (Infinity, NaN) is an error D1001 rather
//     than a number; functions inside a result are dropped from objects and
//     become null in arrays, as JSON.stringify writes them.
//   - Runaway recursion gives U1001 (stack) after 50000 nested evaluations
//     (about 12000 levels of a recursive lambda; jsonata-js recurses on the
//     heap and goes deeper);
//     more than 5,000,000 lambda calls in one evaluation give U1002
//     (jsonata-js's harness reports these from its depth and time limits).
//   - Step Functions additions: $partition(array, size), $range(start, end[,
//     step]) (inclusive end), $hash(string[, algorithm]) with MD5, SHA-1,
//     SHA-256 (default), SHA-384, SHA-512 giving lowercase hex, $random([seed])
//     (deterministic for a seed), $uuid() (version 4), $parse(json). Their
//     errors use code D3030 with a message of their own; Step Functions
//     reports every evaluation error as States.QueryEvaluationError.
