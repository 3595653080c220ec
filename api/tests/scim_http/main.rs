//! SCIM 2.0 surface, black-box over HTTP against the real binary (RFC 7644 and the IdP shapes of
//! ../shared/docs/IDP-QUIRKS.md), one module a topic. One test binary, so the harness and the
//! dependencies are linked once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod auth;
mod discovery;
mod errors;
mod groups;
mod idp_quirks;
mod isolation;
mod queries;
mod uniqueness;
mod users;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

fn assert_scim_error(st: u16, body: &Value, status: u16, scim_type: Option<&str>) {
    assert_eq!(st, status, "{body}");
    assert_eq!(body["schemas"][0], ERROR_SCHEMA, "{body}");
    assert_eq!(body["status"], status.to_string(), "{body}");
    if let Some(t) = scim_type {
        assert_eq!(body["scimType"], t, "{body}");
    }
}

/// Snapshot settings for SCIM resources of directory `d` (RFC 7643 §3.1): ids become
/// `[id]` (or a label the test gives), also as the last segment of a `location`, the
/// `meta` timestamps `[timestamp]` once checked to be xsd:dateTime in UTC with
/// microseconds (`2026-01-15T12:00:00.123456Z`), and the directory's base URL in
/// `location`s `[base]`.
fn scim_settings(d: &Dir, labels: &[(&str, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    let labels: std::collections::HashMap<String, String> = labels
        .iter()
        .map(|(id, label)| (id.to_string(), format!("[{label}]")))
        .collect();
    let (base, ids) = (d.base.clone(), labels.clone());
    s.add_dynamic_redaction(".**.location", move |v, _| {
        let l = v.as_str().unwrap_or_default().replace(&base, "[base]");
        match l.rsplit_once('/') {
            Some((head, id)) if id.starts_with("directory_") => {
                let label = ids.get(id).map_or("[id]", String::as_str);
                format!("{head}/{label}")
            }
            _ => l,
        }
    });
    s.add_dynamic_redaction(".id", move |v, _| {
        labels
            .get(v.as_str().unwrap_or_default())
            .cloned()
            .unwrap_or_else(|| "[id]".into())
    });
    for key in ["created", "lastModified"] {
        s.add_dynamic_redaction(&format!(".meta.{key}"), |v, path| {
            let t = v.as_str().unwrap_or_default();
            assert!(utc_timestamp(t, 6), "{path}: {t:?} is no SCIM timestamp");
            "[timestamp]"
        });
    }
    s
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
