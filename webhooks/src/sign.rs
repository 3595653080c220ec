//! Signatures of a delivery.
//!
//! * `WorkOS-Signature: t=<unix ms>, v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the
//!   key being the secret's text (`whsec_…`) as UTF-8 (WIRE-COMPAT.md §7; the Node
//!   SDK's `SignatureProvider` and the Python SDK's `verify_header` read exactly `t`
//!   and one `v1`). During a rotation's overlap the previous secret's signature goes in
//!   `WorkOS-Signature-Previous` (same form): the SDKs cannot read two `v1` entries
//!   (Python's `split(", ")` into two, Node's first two comma-separated parts).
//! * Standard Webhooks (standardwebhooks.com spec, "Signature scheme"): `webhook-id`
//!   (the event id), `webhook-timestamp` (unix seconds) and `webhook-signature:
//!   v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, the key being the
//!   base64-decoded part of the secret after `whsec_`; one space-separated entry per
//!   secret, so the previous secret verifies too during the overlap.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes a key of any length
    let mut m = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// The Standard Webhooks key of a secret: the base64 after `whsec_` (the whole text
/// when it is not of that form).
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b| STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `t=<ms>, v1=<hex>` for one secret.
pub fn workos_signature(secret: &str, t_ms: i64, body: &[u8]) -> String {
    let t = t_ms.to_string();
    let sig = mac(secret.as_bytes(), &[t.as_bytes(), b".", body]);
    format!("t={t}, v1={}", hex::encode(sig))
}

/// `v1,<base64>` for each secret, space-separated.
pub fn standard_signature(secrets: &[String], id: &str, t_s: i64, body: &[u8]) -> String {
    let t = t_s.to_string();
    secrets
        .iter()
        .map(|s| {
            let sig = mac(
                &standard_key(s),
                &[id.as_bytes(), b".", t.as_bytes(), b".", body],
            );
            format!("v1,{}", STANDARD.encode(sig))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every signature header of a delivery of event `id` with `body` at `t_ms`, signed
/// with `secrets` (the current one first).
pub fn headers(
    secrets: &[String],
    id: &str,
    t_ms: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut h = Vec::with_capacity(5);
    if let Some(current) = secrets.first() {
        h.push(("WorkOS-Signature", workos_signature(current, t_ms, body)));
    }
    if let Some(previous) = secrets.get(1) {
        h.push((
            "WorkOS-Signature-Previous",
            workos_signature(previous, t_ms, body),
        ));
    }
    let t_s = t_ms.div_euclid(1000);
    h.push(("webhook-id", id.to_string()));
    h.push(("webhook-timestamp", t_s.to_string()));
    h.push((
        "webhook-signature",
        standard_signature(secrets, id, t_s, body),
    ));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workos_signature_is_hmac_of_t_dot_body_keyed_by_the_secret_text() {
        // RFC 4231 test case 2's key and data, split as "<t>.<body>" would be
        // HMAC-SHA256("Jefe", "what do ya want for nothing?")
        let s = workos_signature("Jefe", 0, b"what do ya want for nothing?");
        assert_ne!(s, "");
        // the same computation through the reference vector: "0." prefixes the body
        let expect = hex::encode(mac(b"Jefe", &[b"0.what do ya want for nothing?"]));
        assert_eq!(s, format!("t=0, v1={expect}"));
        let whole = hex::encode(mac(b"Jefe", &[b"what do ya want for nothing?"]));
        assert_eq!(
            whole,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn standard_webhooks_spec_example_verifies() {
        // the example of the standard-webhooks repository's test suites
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string();
        let sig = standard_signature(
            &[secret],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn two_secrets_sign_twice() {
        let s = vec!["whsec_AAAA".to_string(), "whsec_BBBB".to_string()];
        let h = headers(&s, "event_x", 1_700_000_000_123, b"{}");
        let names: Vec<&str> = h.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "WorkOS-Signature",
                "WorkOS-Signature-Previous",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature"
            ]
        );
        assert_eq!(h[3].1, "1700000000");
        assert_eq!(h[4].1.split(' ').count(), 2);
    }
}
