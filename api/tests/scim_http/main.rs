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
mod queries;
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
