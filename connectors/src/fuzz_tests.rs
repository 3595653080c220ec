//! Property-style tests: thousands of generated odd JSON documents (nested arrays/objects,
//! SCIM-ish keys, string booleans, NULs, brackets, unicode) go through every public function.
//! Nothing may panic, and the outputs must keep their invariants (no nulls left in normalized
//! bodies, normalization is idempotent, errors carry a detail, one primary email at most, …).
//! Deterministic (fixed seeds), dependency-free generator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Map, Value};

use crate::{
    coerce_value, default_attribute_mappings, is_self_test, map_group, map_user,
    normalize_group_body, normalize_patch, normalize_user_body, resolve_path, setup_steps,
    AttributeMapping, DirectoryType, OpKind, ResourceKind,
};

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

const KEYS: &[&str] = &[
    "active",
    "Active",
    "emails",
    "Emails",
    "phoneNumbers",
    "addresses",
    "roles",
    "members",
    "Members",
    "manager",
    "managerId",
    "$ref",
    "value",
    "Value",
    "primary",
    "type",
    "display",
    "schemas",
    "Schemas",
    "Operations",
    "operations",
    "op",
    "Op",
    "path",
    "Path",
    "id",
    "meta",
    "password",
    "groups",
    "name",
    "givenName",
    "familyName",
    "formatted",
    "displayName",
    "externalId",
    "userName",
    "title",
    "x509Certificates",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:User:active",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "urn:okta:custom:1.0:User",
    "name.givenName",
    "emails[type eq \"work\"].value",
    "emails[type eq \"work\"].primary",
    "",
    "é",
    "k\u{0}",
    "urn:",
    "urn:x:",
    "[",
    ".",
    "a.b.c",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "True",
    "false",
    "FALSE",
    "true ",
    "yes",
    "\u{0}",
    "a\u{0}b",
    "é",
    "日本語",
    "🙂",
    "work",
    "Work",
    "home",
    "u1",
    "jc-test-1@x.io",
    "JumpCloud Test Group 1",
    "add",
    "Replace",
    "remove",
    "delete",
    "frobnicate",
    "members",
    "members[value eq \"u1\"]",
    "manager",
    "active",
    "emails[type eq \"work\"].value",
    "emails[",
    "emails[type eq \"a]\"",
    "]",
    "[[",
    "\"",
    "\\",
    ".",
    "..",
    ":",
    "urn:",
    "urn:ietf:params:scim:api:messages:2.0:PatchOp",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:core:2.0:User:emails[primary eq true].value",
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
    "{$user.active}",
    "name.",
    ".givenName",
    "a[b].c[d].e",
];

fn gen_string(rng: &mut Rng) -> String {
    if rng.chance(10) {
        // Random code points, including control characters and multi-byte ones.
        let len = rng.below(12);
        (0..len)
            .map(|_| {
                let c = match rng.below(4) {
                    0 => rng.below(0x20) as u32,
                    1 => 0x20 + rng.below(0x5f) as u32,
                    2 => 0xa0 + rng.below(0x700) as u32,
                    _ => 0x1f600 + rng.below(0x40) as u32,
                };
                char::from_u32(c).unwrap_or('?')
            })
            .collect()
    } else if rng.chance(3) {
        "x".repeat(rng.below(5000))
    } else {
        rng.pick(STRINGS).to_string()
    }
}

fn gen_key(rng: &mut Rng) -> String {
    if rng.chance(85) {
        rng.pick(KEYS).to_string()
    } else {
        gen_string(rng)
    }
}

fn gen_value(rng: &mut Rng, depth: usize) -> Value {
    let leaf_only = depth == 0;
    match rng.below(if leaf_only { 6 } else { 9 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => json!(rng.next() as i64 % 1000),
        3 => json!(-1.5e300),
        4 | 5 => Value::String(gen_string(rng)),
        6 => {
            let n = rng.below(4);
            Value::Array((0..n).map(|_| gen_value(rng, depth - 1)).collect())
        }
        _ => {
            let n = rng.below(6);
            let mut m = Map::new();
            for _ in 0..n {
                m.insert(gen_key(rng), gen_value(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

fn gen_object(rng: &mut Rng, depth: usize) -> Value {
    let n = rng.below(8);
    let mut m = Map::new();
    for _ in 0..n {
        m.insert(gen_key(rng), gen_value(rng, depth));
    }
    Value::Object(m)
}

fn gen_patch(rng: &mut Rng) -> Value {
    let n = if rng.chance(5) { 0 } else { 1 + rng.below(3) };
    let ops: Vec<Value> = (0..n)
        .map(|_| {
            let mut m = Map::new();
            if rng.chance(98) {
                let op = if rng.chance(95) {
                    rng.pick(&[
                        "add", "Add", "replace", "Replace", "remove", "Remove", "REMOVE",
                    ])
                } else {
                    rng.pick(&["delete", "", "frobnicate"])
                };
                m.insert(rng.pick(&["op", "Op", "OP"]).to_string(), json!(op));
            }
            let with_path = rng.chance(75);
            if with_path {
                let path =
                    if rng.chance(90) {
                        Value::String(rng.pick(&[
                        "active", "members", "manager", "emails", "emails[type eq \"work\"]",
                        "emails[type eq \"work\"].primary", "members[value eq \"u1\"]",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                        "urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:core:2.0:Group:members", "name.givenName",
                        "title", "", " ",
                    ]).to_string())
                    } else {
                        gen_value(rng, 1)
                    };
                m.insert("path".to_string(), path);
            }
            if rng.chance(85) {
                let value = if !with_path && rng.chance(80) {
                    gen_object(rng, 3)
                } else {
                    gen_value(rng, 3)
                };
                m.insert("value".to_string(), value);
            }
            if rng.chance(3) {
                m.insert(gen_key(rng), gen_value(rng, 1));
            }
            if rng.chance(2) {
                gen_value(rng, 2)
            } else {
                Value::Object(m)
            }
        })
        .collect();
    let mut body = Map::new();
    if rng.chance(70) {
        body.insert(
            "schemas".to_string(),
            if rng.chance(85) {
                json!(["urn:ietf:params:scim:api:messages:2.0:PatchOp"])
            } else {
                gen_value(rng, 1)
            },
        );
    }
    let key = if rng.chance(95) {
        rng.pick(&["Operations", "operations", "OPERATIONS"])
    } else {
        "ops"
    };
    body.insert(
        key.to_string(),
        if rng.chance(95) {
            Value::Array(ops)
        } else {
            gen_value(rng, 2)
        },
    );
    Value::Object(body)
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(m) => m.values().any(has_null),
        _ => false,
    }
}

fn check_user_body(dt: DirectoryType, body: Value) {
    match normalize_user_body(dt, body) {
        Ok(out) => {
            assert!(out.is_object());
            assert!(!has_null(&out), "null left in {out}");
            for k in ["password", "groups", "meta"] {
                assert!(
                    out.as_object()
                        .unwrap()
                        .keys()
                        .all(|x| !x.eq_ignore_ascii_case(k)),
                    "{k} left in {out}"
                );
            }
            let again =
                normalize_user_body(dt, out.clone()).expect("normalized body re-normalizes");
            assert_eq!(again, out, "user normalization not idempotent");
            check_mapping(dt, &out);
        }
        Err(e) => assert!(!e.detail.is_empty()),
    }
}

fn check_group_body(dt: DirectoryType, body: Value) {
    match normalize_group_body(dt, body) {
        Ok(out) => {
            assert!(out.is_object());
            assert!(!has_null(&out), "null left in {out}");
            let again =
                normalize_group_body(dt, out.clone()).expect("normalized body re-normalizes");
            assert_eq!(again, out, "group normalization not idempotent");
            let _ = map_group(dt, &out);
            let _ = is_self_test(dt, ResourceKind::Group, &out);
        }
        Err(e) => assert!(!e.detail.is_empty()),
    }
}

fn check_patch(dt: DirectoryType, kind: ResourceKind, body: Value) {
    match normalize_patch(dt, kind, body) {
        Ok(ops) => {
            assert!(!ops.is_empty());
            for op in &ops {
                if let Some(p) = &op.path {
                    assert!(!p.trim().is_empty());
                    assert!(!p.contains('\0'));
                }
                match op.op {
                    OpKind::Remove => assert!(op.path.is_some(), "remove without path: {op:?}"),
                    OpKind::Add | OpKind::Replace => {
                        assert!(op.value.as_ref().is_some_and(|v| !v.is_null()), "{op:?}")
                    }
                }
                if op.path.is_none() {
                    assert!(op.value.as_ref().is_some_and(Value::is_object), "{op:?}");
                }
            }
            // Re-serializing the normalized operations yields the same operations.
            let list: Vec<Value> = ops
                .iter()
                .map(|o| {
                    let mut m = Map::new();
                    m.insert("op".into(), json!(o.op.as_str()));
                    if let Some(p) = &o.path {
                        m.insert("path".into(), json!(p));
                    }
                    if let Some(v) = &o.value {
                        m.insert("value".into(), v.clone());
                    }
                    Value::Object(m)
                })
                .collect();
            let again = normalize_patch(dt, kind, json!({"Operations": list}))
                .expect("normalized PATCH re-normalizes");
            assert_eq!(again, ops, "PATCH normalization not idempotent");
        }
        Err(e) => assert!(!e.detail.is_empty()),
    }
}

fn check_mapping(dt: DirectoryType, doc: &Value) {
    let u = map_user(dt, doc, &default_attribute_mappings(dt));
    assert!(u.state == "active" || u.state == "inactive");
    let primaries: Vec<_> = u.emails.iter().filter(|e| e.primary).collect();
    assert!(primaries.len() <= 1);
    assert_eq!(u.email, primaries.first().map(|e| e.value.clone()));
    assert_eq!(u.emails.is_empty(), u.email.is_none());
    let _ = serde_json::to_string(&u).unwrap();
    let _ = is_self_test(dt, ResourceKind::User, doc);
}

#[test]
fn no_input_panics_bodies() {
    let mut rng = Rng::new(7);
    for i in 0..3000 {
        let dt = DirectoryType::all()[i % DirectoryType::all().len()];
        let body = if i % 10 == 0 {
            gen_value(&mut rng, 4)
        } else {
            gen_object(&mut rng, 4)
        };
        check_user_body(dt, body.clone());
        check_group_body(dt, body.clone());
        check_mapping(dt, &body);
        let _ = map_group(dt, &body);
    }
}

#[test]
fn no_input_panics_patch() {
    let mut rng = Rng::new(11);
    for i in 0..4000 {
        let dt = DirectoryType::all()[i % DirectoryType::all().len()];
        let body = match i % 20 {
            0 => gen_value(&mut rng, 4),
            1 => gen_object(&mut rng, 3),
            _ => gen_patch(&mut rng),
        };
        check_patch(dt, ResourceKind::User, body.clone());
        check_patch(dt, ResourceKind::Group, body);
    }
}

#[test]
fn no_input_panics_paths_and_coercion() {
    let mut rng = Rng::new(13);
    let doc = json!({
        "userName": "u",
        "emails": [{"value": "a", "type": "Work", "primary": "true"}, {"value": "b"}],
        "name": {"givenName": "A"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m"}},
        "urn:okta:custom:1.0:User": {"costCenter": "c"},
        "": {"": "empty"}
    });
    for _ in 0..3000 {
        let mut path = String::new();
        for _ in 0..rng.below(6) {
            path.push_str(&gen_key(&mut rng));
            path.push_str(rng.pick(&["", ".", ":", "[", "]", " eq ", "\"", "[type eq \"work\"]"]));
        }
        let _ = resolve_path(&doc, &path);
        let random_doc = gen_object(&mut rng, 3);
        let _ = resolve_path(&random_doc, &path);
        let mappings = vec![AttributeMapping {
            path: path.clone(),
            key: gen_key(&mut rng),
        }];
        let _ = map_user(DirectoryType::Generic, &random_doc, &mappings);
        let v = gen_value(&mut rng, 2);
        let _ = coerce_value(&path, v.clone());
        let _ = coerce_value(rng.pick(&["active", "primary", "emails", "title"]), v);
        let _ = DirectoryType::parse(&path);
    }
    for dt in DirectoryType::all() {
        assert!(!setup_steps(*dt).is_empty());
    }
}

#[test]
fn deep_nesting_is_rejected_not_overflowed() {
    // serde_json's parser stops at 128 levels; build 200 levels directly.
    let mut v = json!("leaf");
    for i in 0..200 {
        v = if i % 2 == 0 {
            json!([v])
        } else {
            json!({"a": v})
        };
    }
    let e = normalize_user_body(DirectoryType::Okta, json!({"deep": v.clone()})).unwrap_err();
    assert_eq!(e.kind, crate::ErrorKind::InvalidSyntax);
    assert!(normalize_group_body(DirectoryType::Okta, json!({"deep": v.clone()})).is_err());
    assert!(normalize_patch(
        DirectoryType::Okta,
        ResourceKind::User,
        json!({"Operations": [{"op": "replace", "value": {"x": v.clone()}}]})
    )
    .is_err());
    // Read-only functions stay total on the same document.
    let doc = json!({"deep": v});
    let _ = map_user(
        DirectoryType::Okta,
        &doc,
        &default_attribute_mappings(DirectoryType::Okta),
    );
    let _ = resolve_path(&doc, "deep.a.a.a");
}

#[test]
fn large_flat_documents_are_fine() {
    let mut m = Map::new();
    for i in 0..5000 {
        m.insert(format!("k{i}"), json!([{"value": i, "primary": "True"}]));
    }
    m.insert(
        "emails".into(),
        Value::Array(
            (0..2000)
                .map(|i| json!({"value": format!("e{i}")}))
                .collect(),
        ),
    );
    let out = normalize_user_body(DirectoryType::Generic, Value::Object(m)).unwrap();
    let u = map_user(DirectoryType::Generic, &out, &[]);
    assert_eq!(u.emails.len(), 2000);
    assert_eq!(u.email.as_deref(), Some("e0"));
}
