package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DeviceAuthorization is the answer of the device authorization endpoint.
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"` // what the QR code holds
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// TokenError is an OAuth error answer (authorization_pending, …).
type TokenError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *TokenError) Error() string { return "oauth: " + e.Code + ": " + e.Description }

func post(ctx context.Context, c *http.Client, u string, form url.Values, user, pass string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, b, err
}

func tokenAnswer(resp *http.Response, b []byte) (string, error) {
	if resp.StatusCode != http.StatusOK {
		var te TokenError
		if json.Unmarshal(b, &te) == nil && te.Code != "" {
			return "", &te
		}
		return "", fmt.Errorf("token endpoint: %s", resp.Status)
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return "", fmt.Errorf("token endpoint: %w", err)
	}
	return t.AccessToken, nil
}

// ClientCredentials gets a partner token from the issuer's token endpoint.
func ClientCredentials(ctx context.Context, c *http.Client, issuer, clientID, secret string) (string, error) {
	resp, b, err := post(ctx, c, issuer+"/token", url.Values{"grant_type": {"client_credentials"}}, clientID, secret)
	if err != nil {
		return "", fmt.Errorf("client credentials: %w", err)
	}
	return tokenAnswer(resp, b)
}

// StartDevice begins a QR / device-flow login.
func StartDevice(ctx context.Context, c *http.Client, issuer string) (*DeviceAuthorization, error) {
	resp, b, err := post(ctx, c, issuer+"/device/authorize", url.Values{"client_id": {"posluha-portal"}, "scope": {"openid applications"}}, "", "")
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("device authorization: %s", resp.Status)
	}
	var d DeviceAuthorization
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	return &d, nil
}

// Approve is the simulated Diia app scanning the QR code (whose link
// carries the user code) and confirming as the citizen (or support staff
// member) with the given id.
func Approve(ctx context.Context, c *http.Client, qr, taxNumber string) error {
	u, err := url.Parse(qr)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	code := u.Query().Get("user_code")
	base := u.Scheme + "://" + u.Host
	resp, b, err := post(ctx, c, base+"/device/approve", url.Values{"user_code": {code}, "tax_number": {taxNumber}}, "", "")
	if err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	if resp.StatusCode != http.StatusNoContent {
		var te TokenError
		if json.Unmarshal(b, &te) == nil && te.Code != "" {
			return &te
		}
		return fmt.Errorf("approve: %s", resp.Status)
	}
	return nil
}

// PollDevice polls the token endpoint until the login is approved, denied
// or expired, or ctx ends.
func PollDevice(ctx context.Context, c *http.Client, issuer string, d *DeviceAuthorization) (string, error) {
	interval := time.Duration(max(d.Interval, 1)) * time.Second
	for {
		resp, b, err := post(ctx, c, issuer+"/token", url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {d.DeviceCode}, "client_id": {"posluha-portal"},
		}, "", "")
		if err != nil {
			return "", fmt.Errorf("device token: %w", err)
		}
		t, err := tokenAnswer(resp, b)
		if te, ok := err.(*TokenError); ok && (te.Code == "authorization_pending" || te.Code == "slow_down") {
			if te.Code == "slow_down" {
				interval += time.Second
			}
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(interval):
			}
			continue
		}
		return t, err
	}
}

// DeviceLogin runs the whole QR login for a citizen: start, scan and
// approve in the simulated app, then fetch the token.
func DeviceLogin(ctx context.Context, c *http.Client, issuer, taxNumber string) (string, error) {
	d, err := StartDevice(ctx, c, issuer)
	if err != nil {
		return "", err
	}
	if err := Approve(ctx, c, d.VerificationURIComplete, taxNumber); err != nil {
		return "", err
	}
	return PollDevice(ctx, c, issuer, d)
}
