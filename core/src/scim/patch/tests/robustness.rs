//! Odd, large and generated input: client errors, never a panic or a quadratic blow-up.

use super::*;

#[test]
fn no_panic_on_odd_paths_and_values() {
    let paths = [
        None,
        Some(""),
        Some(" "),
        Some("userName"),
        Some("name"),
        Some("name.givenName"),
        Some("emails"),
        Some("emails.value"),
        Some("emails[type eq \"work\"]"),
        Some("emails[type eq \"work\"].value"),
        Some("emails[value pr]"),
        Some("emails[not (type eq \"x\") or primary eq true]"),
        Some("members"),
        Some("members[value eq \"x\"]"),
        Some("members[value eq \"a\" or value eq \"b\"]"),
        Some("members[type eq \"User\"]"),
        Some("groups"),
        Some("id"),
        Some("meta.lastModified"),
        Some("password"),
        Some(ENT),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nope.x"),
        Some("urn:ietf:params:scim:schemas:core:2.0:User"),
        Some("urn:ietf:params:scim:schemas:core:2.0:Group"),
        Some("urn:a:b:User"),
        Some("urn:a:b:c"),
        Some("urn:"),
        Some(":"),
        Some("::"),
        Some("a:b"),
        Some("x.y"),
        Some("x[y eq \"z\"].w"),
        Some("[]"),
        Some("emails[]"),
        Some("emails[type eq \"\u{0}\"].value"),
        Some("ümlaut"),
        Some("emails[type eq \"work\"]]"),
        Some("a.b.c.d"),
        Some("emails[((((type eq \"a\"))))]"),
        Some("addresses[type eq \"work\"].streetAddress"),
        Some("customThing[x eq 1]"),
    ];
    let values = [
        None,
        Some(Value::Null),
        Some(json!(true)),
        Some(json!("False")),
        Some(json!(0)),
        Some(json!(-1.5e300)),
        Some(json!("")),
        Some(json!("\u{0}")),
        Some(json!([])),
        Some(json!([null])),
        Some(json!([[[]]])),
        Some(json!({})),
        Some(json!({"value": "x"})),
        Some(json!({"value": null, "$ref": null})),
        Some(
            json!([{"value": "u1"}, {"value": "u1", "primary": true}, {"value": "u2", "primary": true}]),
        ),
        Some(json!({"id": "other"})),
        Some(json!({"id": UID, "schemas": 5, "members": "x"})),
        Some(json!({"name.givenName": {"deep": [1, {"x": null}]}})),
        Some(json!({ENT: {"manager": [1, 2]}})),
        Some(json!({"urn:x:y:User": "s", "emails[type eq \"work\"].value": 1})),
        Some(json!({"": 1, " ": 2, "urn:": {}})),
    ];
    for kind in [OpKind::Add, OpKind::Replace, OpKind::Remove] {
        for path in paths {
            for value in &values {
                let o = || PatchOp {
                    op: match kind {
                        OpKind::Add => OpKind::Add,
                        OpKind::Replace => OpKind::Replace,
                        OpKind::Remove => OpKind::Remove,
                    },
                    path: path.map(str::to_string),
                    value: value.clone(),
                };
                let mut d = bjensen();
                let _ = patch_user(&mut d, vec![o()]);
                let mut g = group_doc();
                let _ = patch_group(&mut g, vec![o()]);
                // Whatever happened, a successful patch leaves a document canonicalize accepts.
                assert!(
                    canonicalize(ResourceKind::User, v(&d)).is_ok(),
                    "{path:?} {value:?}"
                );
                assert!(
                    canonicalize(ResourceKind::Group, v(&g)).is_ok(),
                    "{path:?} {value:?}"
                );
            }
        }
    }
}

#[test]
fn large_patches_stay_linear() {
    let mut d = bjensen();
    let emails: Vec<Value> = (0..50_000)
        .map(|i| json!({"value": format!("e{}@x", i % 40_000)}))
        .collect();
    let mut keys = Map::new();
    for i in 0..50_000 {
        keys.insert(format!("custom{i}"), json!(i));
    }
    ok(patch_user(
        &mut d,
        vec![
            add("emails", Value::Array(emails)),
            add_np(Value::Object(keys)),
        ],
    ));
    assert_eq!(d["emails"].as_array().map(Vec::len), Some(40_001));
    let gone: Vec<Value> = (0..30_000)
        .map(|i| json!({"value": format!("E{i}@X")}))
        .collect();
    ok(patch_user(
        &mut d,
        vec![remove_v("emails", Value::Array(gone))],
    ));
    assert_eq!(d["emails"].as_array().map(Vec::len), Some(10_001));
    let mut g = group_doc();
    let ids_: Vec<Value> = (0..100_000)
        .map(|i| json!({"value": format!("u{}", i % 70_000)}))
        .collect();
    let out = ok(patch_group(
        &mut g,
        vec![
            remove_v("members", Value::Array(ids_.clone())),
            add("members", Value::Array(ids_)),
        ],
    ));
    assert!(
        matches!(&out.member_ops[..], [MemberOp::Remove(r), MemberOp::Add(a)] if r.len() == 70_000 && a.len() == 70_000)
    );
}

/// Deterministic generator for the fuzz test (no external crates).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs.get(self.next() % xs.len()).copied().unwrap_or("")
    }
}

const KEYS: &[&str] = &[
    "value",
    "type",
    "primary",
    "display",
    "$ref",
    "userName",
    "name",
    "givenName",
    "emails",
    "members",
    "active",
    "id",
    "meta",
    "schemas",
    "groups",
    "password",
    "manager",
    "externalId",
    "displayName",
    "urn:x:y:User",
    "urn:x:y:User:a",
    "name.givenName",
    "emails.value",
    "",
    "ÜNICODE",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "emails[type eq \"work\"].value",
    "nul\u{0}",
];
const PATH_PARTS: &[&str] = &[
    "emails",
    "members",
    "name",
    "addresses",
    "phoneNumbers",
    "groups",
    "userName",
    "displayName",
    ".",
    "[",
    "]",
    "type eq \"work\"",
    "value eq \"u1\"",
    " or ",
    " and ",
    "not (",
    ")",
    "urn:ietf:params:scim:schemas:core:2.0:User:",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ":",
    "givenName",
    "value",
    "\"",
    "manager",
    "x",
    "primary eq true",
    " pr",
    "$ref",
    "ü",
    " ",
];

fn gen_value(r: &mut Lcg, depth: usize) -> Value {
    match r.next() % 9 {
        0 => Value::Null,
        1 => json!(r.next().is_multiple_of(2)),
        2 => json!(r.next() % 1000),
        3 => json!(r.pick(&[
            "true",
            "False",
            "",
            "work",
            "u1",
            "x\u{0}",
            "2024-01-01T00:00:00Z"
        ])),
        4 | 5 if depth > 0 => {
            let n = r.next() % 4;
            Value::Array((0..n).map(|_| gen_value(r, depth - 1)).collect())
        }
        6..=8 if depth > 0 => {
            let n = r.next() % 5;
            let mut m = Map::new();
            for _ in 0..n {
                let k = r.pick(KEYS).to_string();
                let v = gen_value(r, depth - 1);
                m.insert(k, v);
            }
            Value::Object(m)
        }
        _ => json!(r.pick(KEYS)),
    }
}

fn assert_client_error(r: &CoreResult<PatchOutcome>, what: &str) {
    if let Err(e) = r {
        assert!(
            matches!(
                e,
                CoreError::BadRequest {
                    scim_type: Some(_),
                    ..
                }
            ),
            "{what}: {e:?}"
        );
    }
}

#[test]
fn fuzz_generated_operations_and_bodies() {
    let mut r = Lcg(0x5eed);
    for _ in 0..4000 {
        let n_ops = 1 + r.next() % 3;
        let mut ops = Vec::new();
        for _ in 0..n_ops {
            let kind = match r.next() % 3 {
                0 => OpKind::Add,
                1 => OpKind::Replace,
                _ => OpKind::Remove,
            };
            let path = if r.next().is_multiple_of(4) {
                None
            } else {
                let parts = 1 + r.next() % 4;
                Some((0..parts).map(|_| r.pick(PATH_PARTS)).collect::<String>())
            };
            let value = if r.next().is_multiple_of(6) {
                None
            } else {
                Some(gen_value(&mut r, 3))
            };
            ops.push(PatchOp {
                op: kind,
                path,
                value,
            });
        }
        let mut d = bjensen();
        let res = apply_patch(ResourceKind::User, UID, &mut d, &ops);
        assert_client_error(&res, &format!("{ops:?}"));
        assert!(canonicalize(ResourceKind::User, v(&d)).is_ok(), "{ops:?}");
        let mut g = group_doc();
        let res = apply_patch(ResourceKind::Group, GID, &mut g, &ops);
        assert_client_error(&res, &format!("{ops:?}"));
        assert!(canonicalize(ResourceKind::Group, v(&g)).is_ok(), "{ops:?}");

        let body = gen_value(&mut r, 4);
        for kind in [ResourceKind::User, ResourceKind::Group] {
            if let Err(e) = canonicalize(kind, body.clone()) {
                assert!(
                    matches!(
                        e,
                        CoreError::BadRequest {
                            scim_type: Some(_),
                            ..
                        }
                    ),
                    "{body}: {e:?}"
                );
            }
        }
    }
}
