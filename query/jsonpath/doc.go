// Package jsonpath compiles and evaluates the JSONPath dialect that AWS Step
// Functions accepts in JSONPath-mode states (InputPath, Parameters, ResultPath,
// ItemsPath, Choice variables, intrinsic arguments). The dialect follows
// Jayway JsonPath, which Step Functions uses: "$" and "$$" roots, dot and
// bracket members, indexes (negative too), wildcards, slices, unions, deep
// scan and filter expressions.
//
// Error texts follow AWS's wording because the engine reports them verbatim:
// a definite path that matches nothing yields a *NoResultsError whose
// Normalized form is Jayway's $['a']['b'][0].
package jsonpath
