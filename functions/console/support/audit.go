package support

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Audit actions.
const (
	ActionView     = "view"     // opened an application's personal data
	ActionRedrive  = "redrive"  // restarted from the failed step
	ActionResend   = "resend"   // fixed the failed step's data and continued
	ActionCancel   = "cancel"   // stopped the execution with a reason
	ActionSignedIn = "signedIn" // a support session began
)

// Entry is one audit record: who did what to which application, when,
// with the state before and after. Hash chains the entries (each covers
// the previous one's), so an edited or removed line breaks the chain.
type Entry struct {
	Seq           int64           `json:"seq"`
	Time          time.Time       `json:"time"`
	Actor         string          `json:"actor"` // the support token's sub
	ActorName     string          `json:"actorName,omitempty"`
	Action        string          `json:"action"`
	ApplicationID string          `json:"applicationId,omitempty"`
	ExecutionARN  string          `json:"executionArn,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	Before        json.RawMessage `json:"before,omitempty"`
	After         json.RawMessage `json:"after,omitempty"`
	Outcome       string          `json:"outcome"` // "ok" or the error
	Prev          string          `json:"prev"`
	Hash          string          `json:"hash"`
}

// EntryHash is the hash that chains e to the entry before it: SHA-256 of
// e's JSON with Hash empty (Prev included).
func EntryHash(e *Entry) string {
	c := *e
	c.Hash = ""
	b, _ := json.Marshal(c)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
