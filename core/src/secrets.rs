//! Secrets shown once: directory bearer tokens and vendor API keys.
//!
//! They are 256-bit random values, stored only as SHA-256 hashes (a fast hash is
//! right for high-entropy secrets; argon2 is kept for human passwords). Lookups go
//! by hash, and the stored hash is compared again in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const DIRECTORY_TOKEN_PREFIX: &str = "sgd_";
pub const API_KEY_PREFIX: &str = "sk_";

/// A new secret: prefix + 64 hex characters (256 bits from the OS CSPRNG).
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The last four characters, shown in listings and events (`token_suffix`).
pub fn suffix(secret: &str) -> String {
    let n = secret.len();
    secret.get(n.saturating_sub(4)..).unwrap_or("").to_string()
}

pub fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Why a secret chosen by an operator (`SCIMGATE_BOOTSTRAP_API_KEY`) is guessable,
/// if it is: fewer than 24 characters after the prefix, a character repeated 6 times
/// in a row, a run of 7 consecutive characters (`abcdefg`, `9876543`), fewer than 8
/// distinct characters, or under 80 bits by its characters' frequencies. A key made
/// of 24 random bytes in hex passes (all but about 1 in 10,000 such keys: the
/// message says which rule refused it); a made-up or patterned one does not.
pub fn guessable(secret: &str, prefix: &str) -> Option<String> {
    let body = secret.strip_prefix(prefix)?;
    let chars: Vec<char> = body.chars().collect();
    if chars.len() < 24 {
        return Some("it has fewer than 24 characters after the prefix".into());
    }
    let (mut same, mut up, mut down) = (1, 1, 1);
    for w in chars.windows(2) {
        let (a, b) = (w[0] as i64, w[1] as i64);
        same = if a == b { same + 1 } else { 1 };
        up = if b == a + 1 { up + 1 } else { 1 };
        down = if b == a - 1 { down + 1 } else { 1 };
        if same >= 6 {
            return Some(format!("it repeats {:?} 6 times in a row", w[0]));
        }
        if up >= 7 || down >= 7 {
            return Some("it holds a run of 7 consecutive characters".into());
        }
    }
    let mut counts = std::collections::HashMap::new();
    for c in &chars {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    if counts.len() < 8 {
        return Some("it has fewer than 8 distinct characters".into());
    }
    let n = chars.len() as f64;
    let bits: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum::<f64>()
        * n;
    if bits < 80.0 {
        return Some(format!(
            "its characters carry about {bits:.0} bits, under 80"
        ));
    }
    None
}

/// Hash a human password with argon2id (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{phc::PasswordHash, PasswordVerifier};
    match PasswordHash::new(phc) {
        Ok(h) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = generate(DIRECTORY_TOKEN_PREFIX);
        let b = generate(DIRECTORY_TOKEN_PREFIX);
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
        assert!(ct_eq(&hash(&a), &hash(&a)));
        assert!(!ct_eq(&hash(&a), &hash(&b)));
        assert_eq!(suffix("abcdef"), "cdef");
    }

    #[test]
    fn patterned_secrets_are_guessable_and_random_ones_are_not() {
        for s in [
            "sk_short",
            "sk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "sk_test_blackbox_0123456789abcdefghij",
            "sk_bench_0123456789abcdefghijklmnopqrstuv",
            "sk_zyxwvutsrqp_Q7vK2mX9pL4wR8nT",
            "sk_abababababababababababababab",
            "sk_passwordpasswordpassword",
        ] {
            assert!(guessable(s, API_KEY_PREFIX).is_some(), "{s}");
        }
        assert_eq!(
            guessable("sk_test_Q7vK2mX9pL4wR8nT3yB6hJ5dF1sG0c", API_KEY_PREFIX),
            None
        );
        assert_eq!(
            guessable(
                "sk_dev_3f9a0c71be22d4e8a65f0b9c17d3e4a2f8b06c5d9e1a7f34",
                API_KEY_PREFIX
            ),
            None
        );
    }

    #[test]
    fn passwords_round_trip() {
        let h = hash_password("correct horse").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
    }
}
