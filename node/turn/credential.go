package turn

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST credential scheme is HMAC-SHA1 by definition
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Credential is a time-limited TURN credential.
type Credential struct {
	// Username is "<expiry Unix seconds>:<opaque ID>".
	Username string
	// Password is base64(HMAC-SHA1(secret, Username)), standard encoding
	// with padding.
	Password string
	// Expires is when the credential stops opening allocations.
	Expires time.Time
}

// DeviceIDDomain separates the opaque IDs from every other use of the
// secret.
const DeviceIDDomain = "parley/v1/turn/device"

// opaqueIDLen is the length of an opaque ID: 16 bytes in unpadded
// base64url.
const opaqueIDLen = 22

// credentials makes and checks credentials under one secret.
type credentials struct {
	secret []byte
	ttl    time.Duration
	grace  time.Duration
	clock  Clock
}

// opaqueID is the device's ID in usernames: the first 16 bytes of
// HMAC-SHA256(secret, DeviceIDDomain || 0x00 || subject), unpadded
// base64url. The same device gets the same ID, so its allocations can be
// counted, but the ID names it only to whoever holds the secret.
func (c *credentials) opaqueID(subject string) string {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(DeviceIDDomain))
	m.Write([]byte{0})
	m.Write([]byte(subject))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// password is base64(HMAC-SHA1(secret, username)).
func (c *credentials) password(username string) string {
	m := hmac.New(sha1.New, c.secret)
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// issue returns a credential for subject, valid for the TTL from now
// (rounded up to the second, as the username counts seconds).
func (c *credentials) issue(subject string) Credential {
	exp := c.clock.Now().Add(c.ttl)
	if exp.Nanosecond() != 0 {
		exp = exp.Truncate(time.Second).Add(time.Second)
	}
	username := strconv.FormatInt(exp.Unix(), 10) + ":" + c.opaqueID(subject)
	return Credential{Username: username, Password: c.password(username), Expires: exp}
}

// check parses username and judges its expiry: an allocation needs an
// unexpired credential, a refresh, permission or channel request one
// expired less than the grace ago. It returns the opaque ID and the
// password the client must have used; the caller's integrity check
// proves that it did.
func (c *credentials) check(username string, allocating bool) (id, password string, err error) {
	exp, id, ok := strings.Cut(username, ":")
	if !ok || len(exp) == 0 || len(exp) > 19 || len(id) != opaqueIDLen {
		return "", "", fmt.Errorf("%w: username %q is not <expiry>:<22-character ID>", ErrBadCredential, username)
	}
	secs, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil || secs <= 0 || exp[0] == '+' {
		return "", "", fmt.Errorf("%w: expiry %q is not a Unix time", ErrBadCredential, exp)
	}
	if _, derr := base64.RawURLEncoding.DecodeString(id); derr != nil {
		return "", "", fmt.Errorf("%w: ID %q is not base64url", ErrBadCredential, id)
	}
	limit := time.Unix(secs, 0)
	if !allocating {
		limit = limit.Add(c.grace)
	}
	if now := c.clock.Now(); !now.Before(limit) {
		return "", "", fmt.Errorf("%w: %s expired at %s (now %s)", ErrCredentialExpired, username,
			time.Unix(secs, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return id, c.password(username), nil
}
