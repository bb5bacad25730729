package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/posluha/posluha"
)

// Roles a token can carry in its "role" claim.
const (
	RoleCitizen = "citizen"
	RolePartner = "partner"
	RoleSupport = "support"
)

// Identity is the authenticated caller.
type Identity struct {
	Subject   string // the citizen's tax number, or the partner's client id
	Role      string
	Name      string
	BirthDate string // YYYY-MM-DD
}

// identityFrom reads the claims the JWT authorizer passed. ok is false
// when the request carries none (not through API Gateway or the local
// gateway, or a route without an authorizer).
func identityFrom(ctx context.Context) (Identity, bool) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx)
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return Identity{}, false
	}
	c := rc.Authorizer.JWT.Claims
	id := Identity{Subject: c["sub"], Role: c["role"], Name: c["name"], BirthDate: c["birthdate"]}
	if id.Role == "" {
		id.Role = RoleCitizen
	}
	if id.Subject == "" {
		return Identity{}, false
	}
	switch id.Role {
	case RoleCitizen, RolePartner, RoleSupport:
	default:
		return Identity{}, false
	}
	return id, true
}

// age is the whole years between birth (YYYY-MM-DD) and now in Kyiv, or
// -1 when birth is not a date.
func age(birth string, now time.Time) int {
	b, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return -1
	}
	now = now.In(kyiv)
	y := now.Year() - b.Year()
	if now.Month() < b.Month() || (now.Month() == b.Month() && now.Day() < b.Day()) {
		y--
	}
	return y
}

var kyiv = loadKyiv()

func loadKyiv() *time.Location {
	if l, err := time.LoadLocation("Europe/Kyiv"); err == nil {
		return l
	}
	return time.FixedZone("EET", 2*3600)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, who Identity)

// authed requires an identity and applies the caller's rate limit.
func (h *Handler) authed(f handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := identityFrom(r.Context())
		if !ok {
			h.writeError(w, r, posluha.Errorf(errUnauthorized, "sign in first"))
			return
		}
		if wait, ok := h.limiter.allow(who); !ok {
			secs := int(wait/time.Second) + 1
			w.Header().Set("Retry-After", itoa(secs))
			h.writeError(w, r, posluha.Errorf(errTooManyRequests, "too many requests, retry in %d s", secs))
			return
		}
		f(w, r, who)
	}
}

// prefersEnglish reports whether Accept-Language ranks English above
// Ukrainian (Ukrainian is the default).
func prefersEnglish(r *http.Request) bool {
	al := r.Header.Get("Accept-Language")
	if al == "" {
		return false
	}
	best, bestQ := "", -1.0
	for part := range strings.SplitSeq(al, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q = parseQ(v)
		}
		lang, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if lang != "uk" && lang != "en" {
			continue
		}
		if q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best == "en"
}

func parseQ(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return 0
	}
	return v
}
