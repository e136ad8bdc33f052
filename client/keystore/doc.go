// Package keystore keeps a device's Ed25519 keys on the device, encrypted
// at rest under a passphrase.
//
// A device key signs everything other participants must verify (DESIGN.md
// sections 2 and 3). It is generated here, never leaves the device, and is
// separate from the account (secp256k1) keys of the Cosmos keyring. A
// device may also pay with an account key derived from it
// (DeviceKey.AccountKey, account.go): a different key, stored nowhere.
//
// This package must never log, print or return in an error any private
// material: not the private key or seed, not a passphrase, not a derived
// key. A DeviceKey formats as its user, device and public key only.
//
// # Files
//
// A Store is a directory (by default ~/.parley/keys, see DefaultDir) with
// mode 0700; Open refuses one that grants group or others any access. Each
// key is one file of mode 0600 named
//
//	<user_id>@<device_id>.key.json
//
// '@' is in neither ID alphabet, so a name maps back to exactly one
// (user_id, device_id). user_id matches ^[a-z0-9][a-z0-9._-]{2,31}$ and
// device_id matches ^[a-z0-9._-]{1,32}$. A file is written to a temporary
// ".tmp-*" file in the same directory, synced, and hard-linked into place,
// so it appears whole or not at all and an existing key is never
// overwritten. Load and List refuse a key file that grants group or others
// any access (ErrInsecurePermissions) and one that is not a regular file.
//
// # Format, version 1
//
// The file is one JSON object (UTF-8, indented, ending in a newline);
// unknown fields make it corrupt. Byte strings are lowercase hex.
//
//	{
//	  "version": 1,
//	  "user_id": "alice",
//	  "device_id": "laptop",
//	  "public_key": "<32-byte Ed25519 public key>",
//	  "created_at": "2026-01-02T03:04:05Z",
//	  "encryption": "aes-256-gcm",
//	  "kdf": {
//	    "name": "argon2id",
//	    "time": 3,
//	    "memory_kib": 65536,
//	    "threads": 2,
//	    "salt": "<16 random bytes>"
//	  },
//	  "nonce": "<12 random bytes>",
//	  "ciphertext": "<48 bytes: AES-256-GCM(32-byte seed) || 16-byte tag>",
//	  "passphrase_check": "<32 bytes>"
//	}
//
// created_at is RFC 3339 in UTC, whole seconds. The secret stored is the
// 32-byte Ed25519 seed of RFC 8032 (Go's ed25519.PrivateKey.Seed); the
// public key is recomputed from it on Load and must equal public_key.
//
// Key derivation (the KDF parameters are read from the file, so files made
// with other costs still open; Load accepts time 1..64, threads 1..64 and
// memory_kib 8*threads..1048576):
//
//	K                = Argon2id(passphrase, salt, time, memory_kib, threads, 32 bytes)
//	aead_key         = HKDF-SHA256(secret=K, salt=none, info="parley/v1/keystore/aead",  32 bytes)
//	passphrase_check = HKDF-SHA256(secret=K, salt=none, info="parley/v1/keystore/check", 32 bytes)
//	ciphertext       = AES-256-GCM-Seal(aead_key, nonce, seed, AAD)
//
// The passphrase is taken as given, byte for byte (no Unicode
// normalization). passphrase_check tells a wrong passphrase
// (ErrWrongPassphrase) from a damaged file (ErrCorrupt); it gives an
// attacker who has the file nothing the ciphertext does not, since either
// lets them test a guess at the cost of one Argon2id. A changed salt, kdf
// field or passphrase_check also reads as a wrong passphrase.
//
// The AAD binds every header field, so none can be changed or swapped with
// another file's undetected. With lp(x) = uint32-big-endian(len(x)) || x:
//
//	AAD = lp("parley/v1/keystore")
//	   || uint32-be(version)
//	   || lp(user_id) || lp(device_id)
//	   || lp(public_key)                        (32 raw bytes)
//	   || lp(created_at)                        (the exact string in the file)
//	   || lp(encryption)                        ("aes-256-gcm")
//	   || lp(kdf.name)                          ("argon2id")
//	   || uint32-be(kdf.time) || uint32-be(kdf.memory_kib) || uint32-be(kdf.threads)
//	   || lp(kdf.salt)                          (16 raw bytes)
//
// Strings are their UTF-8 bytes. The file name must also match user_id and
// device_id, so a file renamed to another device's name is corrupt.
//
// # Unencrypted files
//
// With CreateOptions.Unencrypted (for tests and bots; the passphrase must
// then be empty) the file says so plainly and holds the seed in the clear:
//
//	{
//	  "version": 1,
//	  "user_id": "bot",
//	  "device_id": "ci",
//	  "public_key": "<32 bytes>",
//	  "created_at": "2026-01-02T03:04:05Z",
//	  "encryption": "none",
//	  "seed": "<32-byte Ed25519 seed>"
//	}
//
// Its only integrity check is that the seed yields public_key.
//
// # Memory
//
// DeviceKey.Close zeroes the private key, and the package zeroes seeds,
// derived keys and file buffers once used. This is best effort: the Go
// runtime may copy memory, and Delete's overwrite may not reach old blocks
// on journaling or copy-on-write file systems and SSDs.
package keystore
