// Package feel translates a subset of FEEL (the expression language of
// Camunda 8 / Zeebe gateway conditions and ioMappings, written "=expr")
// into JSONata 2.0 text for Step Functions' JSONata query language.
//
// # Variables
//
// A process variable x becomes the Step Functions variable $x; a path
// a.b.c becomes $a.b.c. Variable names must match [A-Za-z_][A-Za-z0-9_]*,
// must not start with "__" (the translation's block-local temporaries),
// must not be "states" ($states is Step Functions'), and must not be the
// name of a JSONata built-in such as count or string (a variable $count
// would shadow $count() in every expression of the state machine);
// CheckVariable applies the rule. Member names after a dot may be
// anything (`first name`); they are back-quoted when JSONata needs it.
//
// # Supported subset
//
//   - literals: numbers, "strings" (\" \\ \n \r \t \uXXXX), true, false,
//     null, lists [1, 2], contexts {a: 1, "b c": 2, d: a + 1};
//   - paths a.b.c, list filters xs[item > 10] and xs[amount > 10]
//     (members of each item), indexes xs[1], xs[-1] (1-based → 0-based);
//   - comparison = != < <= > >=, between … and …, x in [1, 2],
//     x in [1..10], (1..10], ]1..10[, x in (> 5, < 0), x in xs;
//   - and, or, not(…); if … then … else …; some/every x in xs satisfies …;
//     for x in xs, i in 1..n return … (a flat list over all combinations);
//   - arithmetic + - * / ** and unary minus; + on strings concatenates;
//   - functions: string length, substring, upper case, lower case,
//     contains, starts with, ends with, matches, replace, split (patterns
//     and flags must be string literals), string join, number, string,
//     abs, floor, ceiling, sqrt, decimal, round half up, round half down,
//     round up, round down, modulo, min, max, sum, mean, count, all, any,
//     append, concatenate, list contains, distinct values, reverse,
//     flatten, sort (optionally with a function(x, y) literal), is
//     defined, get or else, date, time, date and time, now, today,
//     duration, substring before, substring after, trim, is empty,
//     product, odd, even, get value, day of week, month of year, day of
//     year, week of year, sublist, remove, union;
//   - properties year, month, day, weekday of dates and date-times, hour,
//     minute, second of date-times and times;
//   - dates are ISO strings: date("2024-01-31") is "2024-01-31"; date
//     or date and time ± duration("P…DT…H…M…S") is computed on epoch
//     milliseconds with $toMillis/$fromMillis; ± duration("P…Y…M") moves
//     the calendar month and clamps the day (2024-01-31 + P1M =
//     2024-02-29); durations must be literals. A date difference may be
//     compared with a literal days-time duration (today() - date(x) >
//     duration("P30D")). Date-times are compared as
//     instants. now() is $now() (UTC); today() is the UTC date.
//
// Lenient extensions: sort(list) without a function sorts ascending;
// date(x) of a date-time string takes its date part; date and time(d, t)
// joins date and time strings.
//
// Everything else (instance of, named arguments, date differences as
// values, duration properties, ranges as values, unary tests outside
// "in", other built-ins) is an *Error naming the position and a hint.
//
// # Null, undefined and wrong types
//
// FEEL yields null where an operand is null or of the wrong type
// (string length(5), null + 1); JSONata raises an error instead, which
// would fail the execution. The translation therefore checks operands whose
// static type is unknown with $type and yields JSONata's undefined (its
// stand-in for null, which propagates through functions and operators
// without errors) when a check fails. A statically wrong type (1 < "a",
// string length(5)) is a translation error. Output mappings should turn a
// final undefined into null.
//
// # Where the result differs from FEEL
//
// The rules are chosen so that conditions are predictable:
//
//   - A missing variable is JSONata undefined, which behaves as FEEL null:
//     x = null is true for both; x != 5 is true for both. Two missing
//     variables are not equal (FEEL: null = null is true).
//   - Ordering (<, <=, >, >=, between, ranges) guarded by a failed $type
//     check is false, where FEEL gives null: x > 5 with x = "7" is false.
//   - = on values of different types is false (FEEL: null), and != is its
//     negation, so 1 != "1" is true.
//   - and, or, if and filters treat only true as true: FEEL's null and
//     non-boolean operands count as false. not(x) is false unless x is
//     false. TranslateCondition always yields a boolean (null is false).
//   - Numbers are IEEE doubles, not FEEL's decimals: 0.1 + 0.2 is
//     0.30000000000000004 and 100 * 1.1 is 110.00000000000001; round
//     computed amounts with decimal(x, 2) before comparing them with =.
//   - number() converts JSON number syntax only (number("-.5") is null).
//     Dividing by a literal 0 is a translation error; by a zero value,
//     null as in FEEL.
//   - A missing value inside a context literal drops the entry ({a: x}
//     is {} when x is missing; FEEL: {a: null}).
//   - Results of filters, sort, distinct values, flatten and append are
//     always lists; an empty filter result is []. A path over a list
//     (xs.name) may still be unwrapped by JSONata when it has one element.
//   - min and max accept numbers only (FEEL also orders strings); string
//     join skips non-strings.
//   - Date-times keep the text they were given; computed ones come from
//     $fromMillis ("2024-01-01T11:30:00.000Z"). Local date-times without an
//     offset are read as UTC.
//   - Inside a filter, a bare name is the item's member when the item has
//     it, else the variable of that name, as in FEEL; Names does not report
//     such names.
package feel
