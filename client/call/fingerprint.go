package call

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// fingerprintAlgorithm is the hash the engine signs fingerprints with; pion
// puts the same one in its SDP.
const fingerprintAlgorithm = "sha-256"

// certFingerprint returns cert's fingerprint as SDP writes it:
// "sha-256 AB:CD:...".
func certFingerprint(cert *webrtc.Certificate) (string, error) {
	fps, err := cert.GetFingerprints()
	if err != nil {
		return "", fmt.Errorf("%w: certificate fingerprint: %v", ErrInvalidConfig, err)
	}
	for _, fp := range fps {
		if strings.EqualFold(fp.Algorithm, fingerprintAlgorithm) {
			return fingerprintAlgorithm + " " + strings.ToUpper(fp.Value), nil
		}
	}
	return "", fmt.Errorf("%w: certificate has no %s fingerprint", ErrInvalidConfig, fingerprintAlgorithm)
}

// normalizeFingerprint returns "alg HEX" with the algorithm in lower case
// and the hex in upper case, and false if fp is not of that shape.
func normalizeFingerprint(fp string) (string, bool) {
	alg, val, ok := strings.Cut(strings.TrimSpace(fp), " ")
	val = strings.TrimSpace(val)
	if !ok || alg == "" || val == "" || strings.ContainsAny(val, " \t") {
		return "", false
	}
	return strings.ToLower(alg) + " " + strings.ToUpper(val), true
}

// sdpFingerprints returns every a=fingerprint of the SDP, session- and
// media-level, normalised.
func sdpFingerprints(text string) ([]string, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(text); err != nil {
		return nil, fmt.Errorf("%w: SDP: %v", ErrMalformedSignal, err)
	}
	var out []string
	add := func(attrs []sdp.Attribute) error {
		for _, a := range attrs {
			if a.Key != "fingerprint" {
				continue
			}
			fp, ok := normalizeFingerprint(a.Value)
			if !ok {
				return fmt.Errorf("%w: SDP fingerprint %q", ErrMalformedSignal, a.Value)
			}
			out = append(out, fp)
		}
		return nil
	}
	if err := add(d.Attributes); err != nil {
		return nil, err
	}
	for _, m := range d.MediaDescriptions {
		if err := add(m.Attributes); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkSDPFingerprint returns the normalised signed fingerprint if the SDP
// has at least one a=fingerprint and every one equals it. pion then holds
// the DTLS handshake to the SDP's fingerprint, so the peer's certificate is
// the one its device key signed.
func checkSDPFingerprint(signed, sdpText string) (string, error) {
	want, ok := normalizeFingerprint(signed)
	if !ok {
		return "", fmt.Errorf("%w: signed fingerprint %q is not \"alg HEX\"", ErrFingerprintMismatch, signed)
	}
	fps, err := sdpFingerprints(sdpText)
	if err != nil {
		return "", err
	}
	if len(fps) == 0 {
		return "", fmt.Errorf("%w: SDP has no a=fingerprint", ErrFingerprintMismatch)
	}
	for _, fp := range fps {
		if fp != want {
			return "", fmt.Errorf("%w: SDP has %q, signal signed %q", ErrFingerprintMismatch, fp, want)
		}
	}
	return want, nil
}
