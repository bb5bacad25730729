// Package scenario runs analysts' scenario tests: for a service folder
// (statemachines/<service>) it compiles process.bpmn, runs every
// tests/*.yaml scenario in the local Step Functions engine with the
// registries, signers and citizens mocked, and checks what happened
// against what the scenario expects. No Lambda runs: an Invoker answers
// each task from the scenario by the task payload's step (the BPMN element
// id) or connector. Time runs on a virtual clock, so a 30-day deadline
// takes milliseconds.
//
// # Scenario file
//
//	name: Co-owner never signs
//	citizen: {taxNumber: "1234567890", name: "Олена Петренко"}
//	form: {reestrNum: "RN-1"}
//	answers:                      # by BPMN element id or connector
//	  read_owners:                # a list is a sequence: one per call,
//	    - error: Registry.Unavailable   # the last one repeats
//	    - result: {owners: [...], address: "..."}
//	  co_owner_consent: {never: true}   # nobody answers: timers fire
//	  military.register: {result: {recordId: "M-1"}}
//	expect:
//	  path: [read_owners, consent_deadline, reject_no_consent, rejected]
//	  status: SUCCEEDED           # or FAILED, with error: <name>
//	  output: {residenceRecord: R-1}   # a subset of the output
//	  notifications:              # event.write notify/status calls, in order
//	    - {status: rejected, reason: no-consent}
//	  documents: [{template: certificate}]   # document.pdf calls, in order
//
// The path lists BPMN element ids or names in the order they must be
// reached; other elements may come between them unless exactPath is true.
// A task nobody answered gets a success with an empty result ({}), so a
// scenario names only the answers that matter.
//
// # Results
//
// Run returns a Report: per scenario pass/fail with the reasons and the
// path drawn as text, and the coverage of the BPMN ({"elements": {id:
// hits}, "flows": {id: hits}}, the file `bpmn2asl graph --coverage`
// reads). Main is the `posluha test` command.
package scenario
