//! Secrets that must be read back, sealed at rest: webhook signing secrets and the
//! admin UI's session signing keys. (Directory tokens and API keys are never read back:
//! they are stored as hashes only, see [`crate::secrets`].)
//!
//! A sealed value is `v1.<kid>.<base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag)>`; the
//! key id (`kid`, the first 8 hex digits of the key's SHA-256) names the key that
//! sealed it, so keys can be rotated: the first key of the configuration seals, every
//! configured key opens.
//!
//! Where the key comes from (the trade-off is documented in the README):
//! * `SCIMGATE_SECRET_KEY`: one or more comma-separated keys, each 32 bytes as 64 hex
//!   digits or base64 (the first seals; the rest only open, for rotation). Every
//!   instance of a deployment must have the same keys. A database dump alone then
//!   reveals no secret.
//! * otherwise a key file, `secret.key` in the data directory, created (mode 0600) on
//!   first use: the embedded default works with no configuration, and a copy of the
//!   database without the data directory's key file reveals nothing. It serves one
//!   instance: other instances cannot open what it sealed unless they share the file.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
pub const KEY_FILE: &str = "secret.key";

/// Where the sealing keys came from (for `scimgate check` and the start-up log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `SCIMGATE_SECRET_KEY`, with this many keys.
    Environment(usize),
    /// A key file (created now or earlier).
    File(String),
}

#[derive(Clone)]
struct Key {
    kid: String,
    cipher: Aes256Gcm,
}

/// Seals and opens secrets with the configured keys.
#[derive(Clone)]
pub struct Sealer {
    keys: Vec<Key>,
    source: KeySource,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the keys
        f.debug_struct("Sealer")
            .field(
                "kids",
                &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .field("source", &self.source)
            .finish()
    }
}

fn key_of(bytes: &[u8; 32]) -> CoreResult<Key> {
    let cipher = Aes256Gcm::new_from_slice(bytes)
        .map_err(|_| CoreError::internal("invalid sealing key length"))?;
    Ok(Key {
        kid: hex::encode(&Sha256::digest(bytes)[..4]),
        cipher,
    })
}

/// One configured key: 64 hex digits or the base64 of 32 bytes.
fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let t = text.trim();
    let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t).map_err(|e| e.to_string())?
    } else {
        STANDARD
            .decode(t)
            .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
            .map_err(|_| "not 64 hex digits or base64".to_string())?
    };
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("a key must be 32 bytes, this one is {}", bytes.len()))
}

impl Sealer {
    /// Keys from `SCIMGATE_SECRET_KEY`'s value (comma-separated; the first seals).
    pub fn from_env_value(value: &str) -> CoreResult<Sealer> {
        let mut keys = Vec::new();
        for (i, part) in value
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .enumerate()
        {
            let bytes = parse_key(part).map_err(|e| CoreError::BadRequest {
                scim_type: None,
                detail: format!("SCIMGATE_SECRET_KEY: key {}: {e}", i + 1),
            })?;
            keys.push(key_of(&bytes)?);
        }
        if keys.is_empty() {
            return Err(CoreError::BadRequest {
                scim_type: None,
                detail: "SCIMGATE_SECRET_KEY is set but holds no key".into(),
            });
        }
        let n = keys.len();
        Ok(Sealer {
            keys,
            source: KeySource::Environment(n),
        })
    }

    /// The key of `dir/secret.key`, created with a new random key (mode 0600) when
    /// absent.
    pub fn from_key_file(dir: &Path) -> CoreResult<Sealer> {
        let path = dir.join(KEY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    CoreError::internal(format!("cannot create {}: {e}", dir.display()))
                })?;
                let mut k = [0u8; 32];
                rand::rng().fill_bytes(&mut k);
                write_new_private(&path, &hex::encode(k))?;
                // another process may have won the race: read back what is there
                std::fs::read_to_string(&path).map_err(|e| {
                    CoreError::internal(format!("cannot read {}: {e}", path.display()))
                })?
            }
            Err(e) => {
                return Err(CoreError::internal(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        let bytes = parse_key(&text)
            .map_err(|e| CoreError::internal(format!("{}: {e}", path.display())))?;
        Ok(Sealer {
            keys: vec![key_of(&bytes)?],
            source: KeySource::File(path.display().to_string()),
        })
    }

    /// The configured keys: `SCIMGATE_SECRET_KEY` when set, else the data directory's
    /// key file.
    pub fn configure(env_value: Option<&str>, data_dir: &Path) -> CoreResult<Sealer> {
        match env_value {
            Some(v) => Self::from_env_value(v),
            None => Self::from_key_file(data_dir),
        }
    }

    /// A sealer with one random key, for tests.
    pub fn ephemeral() -> Sealer {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        // a 32-byte key is always accepted
        let cipher = Aes256Gcm::new(&k.into());
        Sealer {
            keys: vec![Key {
                kid: hex::encode(&Sha256::digest(k)[..4]),
                cipher,
            }],
            source: KeySource::Environment(1),
        }
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The id of the key that seals.
    pub fn current_kid(&self) -> &str {
        self.keys.first().map(|k| k.kid.as_str()).unwrap_or("")
    }

    /// Seal `plain` with the current key.
    pub fn seal(&self, plain: &[u8]) -> CoreResult<String> {
        let key = self
            .keys
            .first()
            .ok_or_else(|| CoreError::internal("no sealing key"))?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = key
            .cipher
            .encrypt(&Nonce::from(nonce), plain)
            .map_err(|_| CoreError::internal("sealing failed"))?;
        let mut blob = Vec::with_capacity(NONCE_LEN + ct.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        Ok(format!(
            "{VERSION}.{}.{}",
            key.kid,
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    /// Open a value sealed by any configured key. A value sealed by a key that is not
    /// configured, or tampered with, is an error that names the key id only.
    pub fn open(&self, sealed: &str) -> CoreResult<Vec<u8>> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CoreError::internal("a sealed secret has an unknown format"));
        };
        let key = self.keys.iter().find(|k| k.kid == kid).ok_or_else(|| {
            CoreError::internal(format!(
                "a secret is sealed with key {kid}, which is not configured \
                 (every instance needs the same SCIMGATE_SECRET_KEY)"
            ))
        })?;
        let blob = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CoreError::internal("a sealed secret is not valid base64"))?;
        if blob.len() < NONCE_LEN {
            return Err(CoreError::internal("a sealed secret is truncated"));
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce)
            .map_err(|_| CoreError::internal("a sealed secret is truncated"))?;
        key.cipher.decrypt(&Nonce::from(nonce), ct).map_err(|_| {
            CoreError::internal(format!("a secret sealed with key {kid} does not open"))
        })
    }

    /// [`Sealer::open`] of a UTF-8 secret.
    pub fn open_string(&self, sealed: &str) -> CoreResult<String> {
        String::from_utf8(self.open(sealed)?)
            .map_err(|_| CoreError::internal("a sealed secret is not UTF-8"))
    }

    /// Whether `sealed` was sealed with an older key (to re-seal it with the current one).
    pub fn is_stale(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) != Some(self.current_kid())
    }
}

/// Create `path` with `text`, readable by its owner only, failing if it exists.
fn write_new_private(path: &Path, text: &str) -> CoreResult<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => f
            .write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| CoreError::internal(format!("cannot write {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(CoreError::internal(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_and_hide_their_text() -> CoreResult<()> {
        let s = Sealer::ephemeral();
        let sealed = s.seal(b"whsec_abc")?;
        assert!(sealed.starts_with(&format!("v1.{}.", s.current_kid())));
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(s.open(&sealed)?, b"whsec_abc");
        // two seals of one secret differ (random nonces)
        assert_ne!(s.seal(b"whsec_abc")?, sealed);
        Ok(())
    }

    #[test]
    fn tampered_or_foreign_seals_do_not_open() -> CoreResult<()> {
        let s = Sealer::ephemeral();
        let sealed = s.seal(b"secret")?;
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(s.open(&String::from_utf8_lossy(&tampered)).is_err());
        assert!(Sealer::ephemeral().open(&sealed).is_err());
        assert!(s.open("v2.x.y").is_err());
        assert!(s.open("garbage").is_err());
        Ok(())
    }

    #[test]
    fn rotation_opens_with_old_keys_and_seals_with_the_first() -> CoreResult<()> {
        let old = "11".repeat(32);
        let new = STANDARD.encode([7u8; 32]);
        let before = Sealer::from_env_value(&old)?;
        let sealed_old = before.seal(b"a")?;
        let after = Sealer::from_env_value(&format!("{new},{old}"))?;
        assert_eq!(after.open(&sealed_old)?, b"a");
        assert!(after.is_stale(&sealed_old));
        let sealed_new = after.seal(b"b")?;
        assert!(!after.is_stale(&sealed_new));
        assert!(before.open(&sealed_new).is_err());
        Ok(())
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        for bad in ["", "short", &"zz".repeat(32), &STANDARD.encode([1u8; 16])] {
            assert!(Sealer::from_env_value(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() -> CoreResult<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::internal(e.to_string()))?;
        let a = Sealer::from_key_file(dir.path())?;
        let sealed = a.seal(b"x")?;
        let b = Sealer::from_key_file(dir.path())?;
        assert_eq!(b.open(&sealed)?, b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .map_err(|e| CoreError::internal(e.to_string()))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Ok(())
    }
}
