//! Replays every request body of the conformance traces through the normalizers: the published
//! ones (`tests/fixtures/traces`, copied from `conformance/traces/`) and ours, written from
//! ../shared/docs/IDP-QUIRKS.md for the traces the catalogue names but does not publish
//! (`tests/fixtures/traces/catalogue`): every body the gateway must accept
//! normalizes, every body it must reject (expect_status 400) is rejected, and the JumpCloud
//! activation self-test is recognised.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use scimgate_connectors::{
    default_attribute_mappings, is_self_test, map_group, map_user, normalize_group_body,
    normalize_patch, normalize_user_body, DirectoryType, ResourceKind,
};
use serde_json::Value;

const TRACES: &[(&str, &str)] = &[
    (
        "entra_lifecycle.json",
        include_str!("fixtures/traces/entra_lifecycle.json"),
    ),
    (
        "generic_rfc7644.json",
        include_str!("fixtures/traces/generic_rfc7644.json"),
    ),
    (
        "jumpcloud_lifecycle.json",
        include_str!("fixtures/traces/jumpcloud_lifecycle.json"),
    ),
    (
        "okta_lifecycle.json",
        include_str!("fixtures/traces/okta_lifecycle.json"),
    ),
    (
        "ping_lifecycle.json",
        include_str!("fixtures/traces/ping_lifecycle.json"),
    ),
    (
        "catalogue/entra_quirks.json",
        include_str!("fixtures/traces/catalogue/entra_quirks.json"),
    ),
    (
        "catalogue/google_lifecycle.json",
        include_str!("fixtures/traces/catalogue/google_lifecycle.json"),
    ),
    (
        "catalogue/okta_aiw_put.json",
        include_str!("fixtures/traces/catalogue/okta_aiw_put.json"),
    ),
    (
        "catalogue/onelogin_lifecycle.json",
        include_str!("fixtures/traces/catalogue/onelogin_lifecycle.json"),
    ),
    (
        "catalogue/rippling_lifecycle.json",
        include_str!("fixtures/traces/catalogue/rippling_lifecycle.json"),
    ),
];

fn directory_type(idp: &str) -> DirectoryType {
    match idp {
        "entra" => DirectoryType::Azure,
        "okta" => DirectoryType::Okta,
        "jumpcloud" => DirectoryType::JumpCloud,
        "ping" => DirectoryType::PingFederate,
        "onelogin" => DirectoryType::OneLogin,
        "rippling" => DirectoryType::Rippling,
        _ => DirectoryType::Generic,
    }
}

fn expects_400(step: &Value) -> bool {
    match &step["expect_status"] {
        Value::Number(n) => n.as_u64() == Some(400),
        Value::Array(items) => items.iter().all(|s| s.as_u64() == Some(400)),
        _ => false,
    }
}

struct Step<'a> {
    file: &'a str,
    dt: DirectoryType,
    name: String,
    method: String,
    kind: ResourceKind,
    body: Value,
    reject: bool,
}

fn steps() -> Vec<Step<'static>> {
    let mut out = Vec::new();
    for (file, text) in TRACES {
        let trace: Value = serde_json::from_str(text).unwrap();
        let dt = directory_type(trace["idp"].as_str().unwrap_or(""));
        for step in trace["steps"].as_array().unwrap() {
            let Some(body) = step.get("body") else {
                continue;
            };
            let path = step["path"].as_str().unwrap();
            let kind = if path.starts_with("/Groups") {
                ResourceKind::Group
            } else {
                ResourceKind::User
            };
            out.push(Step {
                file,
                dt,
                name: step["name"].as_str().unwrap_or(path).to_string(),
                method: step["method"].as_str().unwrap().to_string(),
                kind,
                body: body.clone(),
                reject: expects_400(step),
            });
        }
    }
    out
}

#[test]
fn every_trace_body_is_accepted_or_rejected_as_recorded() {
    let all = steps();
    assert!(all.len() >= 50, "only {} bodies found", all.len());
    for s in &all {
        let ctx = format!("{} / {} ({} {:?})", s.file, s.name, s.method, s.kind);
        let result = match (s.method.as_str(), s.kind) {
            ("PATCH", kind) => normalize_patch(s.dt, kind, s.body.clone()).map(|_| ()),
            (_, ResourceKind::User) => normalize_user_body(s.dt, s.body.clone()).map(|_| ()),
            (_, ResourceKind::Group) => normalize_group_body(s.dt, s.body.clone()).map(|_| ()),
        };
        if s.reject {
            let e = result.expect_err(&ctx);
            assert!(!e.detail.is_empty(), "{ctx}");
        } else {
            result.unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
        }
    }
}

#[test]
fn every_trace_user_and_group_body_maps() {
    for s in steps() {
        if s.method == "PATCH" {
            continue;
        }
        match s.kind {
            ResourceKind::User => {
                let doc = normalize_user_body(s.dt, s.body.clone()).unwrap();
                let u = map_user(s.dt, &doc, &default_attribute_mappings(s.dt));
                assert!(!u.idp_id.is_empty(), "{} / {}", s.file, s.name);
                assert!(u.username.is_some(), "{} / {}", s.file, s.name);
                if doc.get("emails").is_some() {
                    assert!(u.email.is_some(), "{} / {}", s.file, s.name);
                }
            }
            ResourceKind::Group => {
                let doc = normalize_group_body(s.dt, s.body.clone()).unwrap();
                assert!(
                    !map_group(s.dt, &doc).name.is_empty(),
                    "{} / {}",
                    s.file,
                    s.name
                );
            }
        }
    }
}

// IDP-QUIRKS JC-SELFTEST: exactly the two activation bodies of the JumpCloud trace are tagged.
#[test]
fn jumpcloud_trace_self_test_bodies_are_tagged() {
    let mut tagged = Vec::new();
    for s in steps() {
        if s.method == "PATCH" {
            continue;
        }
        let doc = match s.kind {
            ResourceKind::User => normalize_user_body(s.dt, s.body.clone()).unwrap(),
            ResourceKind::Group => normalize_group_body(s.dt, s.body.clone()).unwrap(),
        };
        if is_self_test(s.dt, s.kind, &doc) {
            tagged.push(format!("{} / {}", s.file, s.name));
        }
    }
    assert_eq!(
        tagged,
        vec![
            "jumpcloud_lifecycle.json / activate: create test user".to_string(),
            "jumpcloud_lifecycle.json / activate: create test group".to_string(),
        ]
    );
}

// IDP-QUIRKS ENTRA-STRING-BOOL / OKTA-PATCH-NOPATH: every deactivation in the traces becomes a
// JSON boolean false at `active` (path or path-less), whatever the dialect.
#[test]
fn trace_deactivations_are_boolean() {
    let mut seen = 0;
    for s in steps() {
        if s.method != "PATCH" || s.kind != ResourceKind::User || s.reject {
            continue;
        }
        for op in normalize_patch(s.dt, s.kind, s.body.clone()).unwrap() {
            let active = match (&op.path, &op.value) {
                (Some(p), Some(v)) if p.eq_ignore_ascii_case("active") => Some(v.clone()),
                (None, Some(Value::Object(m))) => m.get("active").cloned(),
                _ => None,
            };
            if let Some(v) = active {
                assert!(v.is_boolean(), "{} / {}: {v}", s.file, s.name);
                seen += 1;
            }
        }
    }
    assert!(seen >= 6, "only {seen} active changes found");
}
