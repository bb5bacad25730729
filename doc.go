// Package posluha holds the domain of the platform: applications and their
// statuses, services (service.yaml), the payload every compiled Task state
// sends to a Lambda, and named errors that Step Functions matches with
// ErrorEquals. It imports only the standard library; every function under
// functions/ and every adapter depends on it, never the other way round.
//
// The contracts here are the ones in shared/DESIGN.md ("Contracts between the
// parts"); change them there first.
package posluha
