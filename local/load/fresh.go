package load

import (
	"context"
	"strings"

	"github.com/posluha/posluha"
)

// FreshTokenRecords reads records with the token the applicant applied
// with and, when the API refuses it, with a newly minted one. A long run
// (the 900k payout) reconciles long after the first tokens expired (15
// minutes locally); minting a new token for every record up front would
// cost a millisecond of CPU each for nothing.
type FreshTokenRecords struct {
	Records *APIRecords
}

// Get implements Records.
func (r *FreshTokenRecords) Get(ctx context.Context, a Accepted) (*posluha.Application, error) {
	app, err := r.Records.Get(ctx, a)
	if err == nil || a.Token == "" || !strings.Contains(err.Error(), "401") {
		return app, err
	}
	a.Token = ""
	return r.Records.Get(ctx, a)
}
