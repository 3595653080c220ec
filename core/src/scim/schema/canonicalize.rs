//! A (connector-normalized) POST/PUT body validated and turned into the stored document; see
//! [`canonicalize`].

use std::collections::HashSet;

use scimgate_connectors::{coerce_value, ResourceKind};
use serde_json::{Map, Value};

use super::lookup::{core_attr, find_attr, Kind};
use super::values::{
    get_ci, has_nul, key_ci, no_nul, no_nul_str, not_an_object, nul_error, set_ci, wrong_type,
};
use super::{AttrDef, AttrType, Mutability, SchemaDef, ENTERPRISE_USER, ENTERPRISE_USER_SCHEMA};
use crate::error::{CoreError, CoreResult};

/// Result of [`canonicalize`].
#[derive(Debug, Clone, PartialEq)]
pub struct Canonical {
    /// The document to store (and to return, after adding `id`/`meta`).
    pub doc: Map<String, Value>,
    /// Group members: `None` = the body had no `members` (or `members: null`): leave membership alone;
    /// `Some(vec![])` = explicit `[]`.
    pub members: Option<Vec<MemberRef>>,
}

/// One entry of a Group's `members` (RFC 7643 §4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRef {
    pub value: String,
    pub display: Option<String>,
    /// "User" or "Group" when given (matched case-insensitively, stored canonical).
    pub kind: Option<String>,
}

/// Validate and canonicalize a (connector-normalized) POST/PUT body into the stored document:
/// - attribute names re-cased to the schema's canonical names;
/// - enterprise attributes live under the enterprise URN key as an object; URN-qualified top-level keys
///   (`"urn:…:enterprise:2.0:User:department"`, `"urn:…:core:2.0:User:userName"`, unknown extensions'
///   `"urn:x:…:User:attr"`) are moved into their schema's object;
/// - readOnly attributes (`id`, `meta`, `groups`; RFC 7644 §3.5.1 "SHALL be ignored", OKTA-CREATE-PASSWORD-GROUPS)
///   and writeOnly ones (`password`: never stored) are dropped; for Groups `members` is removed from the
///   document and returned in [`Canonical::members`];
/// - `schemas` is rebuilt: core URN, the enterprise URN when its object is non-empty, then the URN keys of
///   the other extension objects present (kept verbatim, ../shared/docs/PRODUCT.md); URIs listed in
///   `schemas` that carry no attributes (Entra's ADSCIM Group URI, ENTRA-GROUP-SCHEMA) are dropped,
///   and extension keys present without a `schemas` entry are listed (ONELOGIN-TEMPLATE-TYPES);
/// - values are type-checked against the definitions (booleans after
///   [`coerce_value`](scimgate_connectors::coerce_value), ENTRA-STRING-BOOL); a single value where a
///   multi-valued attribute belongs is wrapped (ONELOGIN-EMAILS-OBJECT); a bare string where a complex
///   attribute with a `value` sub-attribute belongs becomes `{"value": …}` (ENTRA-MANAGER-STRING);
///   `null`, `[]` and `{}` of known attributes mean "unassigned" (RFC 7643 §2.5) and are not stored;
///   unknown sub-attributes of known complex attributes and unknown non-URN attributes are kept verbatim;
/// - strings containing NUL anywhere -> `invalidValue`; more than one `primary: true` -> `invalidValue`;
///   missing/empty `userName` (User) or `displayName` (Group) -> `invalidValue`.
pub fn canonicalize(kind: ResourceKind, body: Value) -> CoreResult<Canonical> {
    canonicalize_kind(Kind::of(&kind), body)
}

pub(crate) fn canonicalize_kind(kind: Kind, body: Value) -> CoreResult<Canonical> {
    let Value::Object(obj) = body else {
        return Err(CoreError::invalid_syntax(format!(
            "a {} must be a JSON object",
            kind.label()
        )));
    };
    // Extension URN keys present in the body: a key `"<that URN>:attr"` is an attribute of it.
    let ext_keys: HashSet<String> = obj
        .iter()
        .filter(|(k, v)| k.contains(':') && v.is_object())
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    let mut b = Builder {
        kind,
        core: Map::new(),
        enterprise: Map::new(),
        ext: Map::new(),
        members: None,
    };
    for (key, value) in obj {
        no_nul_str(&key, "attribute names")?;
        if key.eq_ignore_ascii_case("schemas") {
            // Rebuilt from the attributes present; only checked for NUL.
            no_nul("schemas", &value)?;
            continue;
        }
        let class = classify_key(kind, &key, value.is_object(), |u| {
            ext_keys.contains(&u.to_ascii_lowercase())
        });
        b.put(class, &key, value)?;
    }
    b.finish()
}

/// How a top-level key (of a body, or of a path-less PATCH value) is to be understood.
#[derive(Debug, PartialEq)]
pub(crate) enum KeyClass<'a> {
    /// A plain attribute name, possibly dotted (`name.givenName`).
    Plain(&'a str),
    /// `<core URN>:attr[.sub]`
    CoreAttr(&'a str),
    /// The core URN itself (a whole object of core attributes).
    CoreObject,
    /// `<enterprise URN>:attr[.sub]` (users)
    EnterpriseAttr(&'a str),
    /// The enterprise URN itself (users).
    EnterpriseObject,
    /// An unknown extension: the whole object (or a verbatim value under a URI key).
    ExtObject,
    /// `<unknown URN>:attr[.sub]`
    ExtAttr { uri: &'a str, attr: &'a str },
}

/// Classify a key. Unknown URN-ish keys are split at their last `:` into an extension URN and an attribute
/// name when the value is not an object (an object value under a URN key is an extension object, e.g.
/// Okta's `urn:okta:app:1.0:user:custom`), or when the URN part is a known extension key (`is_ext`).
pub(crate) fn classify_key<'a>(
    kind: Kind,
    key: &'a str,
    value_is_object: bool,
    is_ext: impl Fn(&str) -> bool,
) -> KeyClass<'a> {
    if !key.contains(':') {
        return KeyClass::Plain(key);
    }
    let core = kind.core().id;
    if key.eq_ignore_ascii_case(core) {
        return KeyClass::CoreObject;
    }
    if let Some(rest) = strip_urn_prefix(key, core) {
        return KeyClass::CoreAttr(rest);
    }
    if kind == Kind::User {
        if key.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) {
            return KeyClass::EnterpriseObject;
        }
        if let Some(rest) = strip_urn_prefix(key, ENTERPRISE_USER_SCHEMA) {
            return KeyClass::EnterpriseAttr(rest);
        }
    }
    if let Some((uri, attr)) = key.rsplit_once(':') {
        let attr_like = uri.contains(':') && is_attr_path(attr);
        if attr_like && (is_ext(uri) || !value_is_object) {
            return KeyClass::ExtAttr { uri, attr };
        }
    }
    KeyClass::ExtObject
}

/// `key` = `urn` + ":" + rest (case-insensitive prefix); returns rest.
fn strip_urn_prefix<'a>(key: &'a str, urn: &str) -> Option<&'a str> {
    let head = key.get(..urn.len())?;
    let rest = key.get(urn.len()..)?;
    if head.eq_ignore_ascii_case(urn) {
        rest.strip_prefix(':')
    } else {
        None
    }
}

/// RFC 7644 §3.4.2.2 ATTRNAME, optionally with one `.subAttr`.
fn is_attr_path(s: &str) -> bool {
    let mut parts = s.split('.');
    let first = parts.next().is_some_and(is_attr_name);
    let second = parts.next().is_none_or(is_attr_name);
    first && second && parts.next().is_none()
}

fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

struct Builder {
    kind: Kind,
    core: Map<String, Value>,
    enterprise: Map<String, Value>,
    ext: Map<String, Value>,
    members: Option<Vec<MemberRef>>,
}

impl Builder {
    fn put(&mut self, class: KeyClass<'_>, key: &str, value: Value) -> CoreResult<()> {
        match class {
            KeyClass::Plain(name) | KeyClass::CoreAttr(name) => self.put_core(name, value),
            KeyClass::CoreObject => match value {
                Value::Object(m) => {
                    for (k, v) in m {
                        no_nul_str(&k, "attribute names")?;
                        self.put_core(&k, v)?;
                    }
                    Ok(())
                }
                Value::Null => Ok(()),
                other => Err(not_an_object(key, &other)),
            },
            KeyClass::EnterpriseAttr(name) => {
                put_schema_attr(&ENTERPRISE_USER, &mut self.enterprise, name, value)
            }
            KeyClass::EnterpriseObject => match value {
                Value::Object(m) => {
                    for (k, v) in m {
                        no_nul_str(&k, "attribute names")?;
                        put_schema_attr(&ENTERPRISE_USER, &mut self.enterprise, &k, v)?;
                    }
                    Ok(())
                }
                Value::Null => Ok(()),
                other => Err(not_an_object(key, &other)),
            },
            KeyClass::ExtObject => {
                no_nul(key, &value)?;
                let slot = key_ci(&self.ext, key).unwrap_or_else(|| key.to_string());
                match (value, self.ext.get_mut(&slot)) {
                    (Value::Null, _) => {}
                    (Value::Object(m), Some(Value::Object(existing))) => {
                        for (k, v) in m {
                            set_ci(existing, &k, v);
                        }
                    }
                    (v, _) => {
                        self.ext.insert(slot, v);
                    }
                }
                Ok(())
            }
            KeyClass::ExtAttr { uri, attr } => {
                no_nul(key, &value)?;
                if value.is_null() {
                    return Ok(());
                }
                let slot = key_ci(&self.ext, uri).unwrap_or_else(|| uri.to_string());
                let entry = self
                    .ext
                    .entry(slot)
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                if let Value::Object(m) = entry {
                    match attr.split_once('.') {
                        Some((a, s)) => {
                            let slot = key_ci(m, a).unwrap_or_else(|| a.to_string());
                            let inner = m.entry(slot).or_insert_with(|| Value::Object(Map::new()));
                            if !inner.is_object() {
                                *inner = Value::Object(Map::new());
                            }
                            if let Value::Object(im) = inner {
                                set_ci(im, s, value);
                            }
                        }
                        None => set_ci(m, attr, value),
                    }
                }
                Ok(())
            }
        }
    }

    fn put_core(&mut self, name_path: &str, value: Value) -> CoreResult<()> {
        let (name, sub) = match name_path.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (name_path, None),
        };
        let Some(def) = core_attr(self.kind, name) else {
            // Unknown non-URN attribute: kept verbatim (tolerance, ../shared/docs/PRODUCT.md).
            no_nul(name_path, &value)?;
            set_ci(&mut self.core, name_path, value);
            return Ok(());
        };
        if self.kind == Kind::Group && def.name == "members" {
            if sub.is_some() {
                return Err(CoreError::invalid_value(format!(
                    "'{name_path}' is not allowed in a Group body; send 'members' as a list"
                )));
            }
            self.members = if value.is_null() {
                None
            } else {
                Some(parse_member_list(value, "members")?)
            };
            return Ok(());
        }
        if matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
            // RFC 7644 §3.5.1: readOnly values are ignored; writeOnly `password` is never stored.
            return Ok(());
        }
        if sub.is_some() && def.ty != AttrType::Complex {
            no_nul(name_path, &value)?;
            set_ci(&mut self.core, name_path, value);
            return Ok(());
        }
        put_attr(&mut self.core, def, sub, value, name_path)
    }

    fn finish(self) -> CoreResult<Canonical> {
        for def in self.kind.core().attributes.iter().filter(|d| d.required) {
            let ok =
                matches!(self.core.get(def.name), Some(Value::String(s)) if !s.trim().is_empty());
            if !ok {
                return Err(required_error(self.kind, def));
            }
        }
        let mut schemas = vec![Value::String(self.kind.core().id.to_string())];
        if !self.enterprise.is_empty() {
            schemas.push(Value::String(ENTERPRISE_USER_SCHEMA.to_string()));
        }
        for (k, v) in &self.ext {
            if matches!(v, Value::Object(m) if !m.is_empty()) {
                schemas.push(Value::String(k.clone()));
            }
        }
        let mut doc = Map::new();
        doc.insert("schemas".to_string(), Value::Array(schemas));
        doc.extend(self.core);
        if !self.enterprise.is_empty() {
            doc.insert(
                ENTERPRISE_USER_SCHEMA.to_string(),
                Value::Object(self.enterprise),
            );
        }
        for (k, v) in self.ext {
            if matches!(&v, Value::Object(m) if m.is_empty()) {
                continue;
            }
            doc.insert(k, v);
        }
        Ok(Canonical {
            doc,
            members: self.members,
        })
    }
}

pub(crate) fn required_error(kind: Kind, def: &AttrDef) -> CoreError {
    let section = match kind {
        Kind::User => "RFC 7643 §4.1",
        Kind::Group => "RFC 7643 §4.2",
    };
    CoreError::invalid_value(format!(
        "'{}' is required and must be a non-empty string ({section})",
        def.name
    ))
}

/// Put an attribute (by plain name, optionally dotted) of an extension schema's object.
fn put_schema_attr(
    schema: &'static SchemaDef,
    map: &mut Map<String, Value>,
    name_path: &str,
    value: Value,
) -> CoreResult<()> {
    let (name, sub) = match name_path.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (name_path, None),
    };
    match find_attr(schema.attributes, name) {
        Some(def) if sub.is_none() || def.ty == AttrType::Complex => {
            if def.mutability == Mutability::ReadOnly {
                return Ok(());
            }
            put_attr(map, def, sub, value, name_path)
        }
        _ => {
            // Unknown attribute of a known extension: kept verbatim (tolerance).
            no_nul(name_path, &value)?;
            set_ci(map, name_path, value);
            Ok(())
        }
    }
}

/// Set (or, for unassigned values, remove) a known attribute or one of its sub-attributes in `map`.
fn put_attr(
    map: &mut Map<String, Value>,
    def: &'static AttrDef,
    sub: Option<&str>,
    value: Value,
    label: &str,
) -> CoreResult<()> {
    let Some(sub) = sub else {
        match check_attr_value(def, label, value)? {
            Some(v) => {
                map.insert(def.name.to_string(), v);
            }
            None => {
                map.shift_remove(def.name);
            }
        }
        return Ok(());
    };
    if def.multi_valued {
        return Err(CoreError::invalid_value(format!(
            "'{label}': a sub-attribute of the multi-valued attribute '{}' cannot be set in a resource body",
            def.name
        )));
    }
    let sub_def = find_attr(def.sub_attributes, sub);
    if sub_def.is_some_and(|d| d.mutability == Mutability::ReadOnly) {
        return Ok(());
    }
    let checked = match sub_def {
        Some(sd) => check_attr_value(sd, label, value)?,
        None => {
            no_nul(label, &value)?;
            (!value.is_null()).then_some(value)
        }
    };
    let sub_name = sub_def.map_or(sub, |d| d.name);
    let entry = map
        .entry(def.name.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(obj) = entry {
        match checked {
            Some(v) => set_ci(obj, sub_name, v),
            None => {
                if let Some(k) = key_ci(obj, sub_name) {
                    obj.shift_remove(&k);
                }
            }
        }
        if obj.is_empty() {
            map.shift_remove(def.name);
        }
    }
    Ok(())
}

/// Type-check and canonicalize a value for `def` (RFC 7643 §2.3). Returns `None` when the value is
/// unassigned (`null`, `[]`, or a complex value with nothing left) (RFC 7643 §2.5). Multi-valued attributes
/// accept a single value, which is wrapped (ONELOGIN-EMAILS-OBJECT). `label` names the attribute in errors.
pub(crate) fn check_attr_value(
    def: &'static AttrDef,
    label: &str,
    value: Value,
) -> CoreResult<Option<Value>> {
    if !def.multi_valued {
        return check_element(def, label, value);
    }
    let items = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        if let Some(v) = check_element(def, &format!("{label}[{i}]"), item)? {
            out.push(v);
        }
    }
    if def.ty == AttrType::Complex && out.iter().filter(|e| is_primary(e)).count() > 1 {
        return Err(CoreError::invalid_value(format!(
            "at most one value of '{label}' may have \"primary\": true (RFC 7643 §2.4)"
        )));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// Type-check one value (one element, for multi-valued attributes) against `def`.
pub(crate) fn check_element(
    def: &'static AttrDef,
    label: &str,
    value: Value,
) -> CoreResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    match def.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(s) => {
                no_nul_str(&s, label)?;
                Ok(Some(Value::String(s)))
            }
            other => Err(wrong_type(label, "a string", &other)),
        },
        AttrType::Boolean => match coerce_value(def.name, value) {
            Value::Bool(b) => Ok(Some(Value::Bool(b))),
            other => Err(wrong_type(label, "a boolean", &other)),
        },
        AttrType::Decimal => match value {
            Value::Number(n) => Ok(Some(Value::Number(n))),
            other => Err(wrong_type(label, "a number", &other)),
        },
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(Value::Number(n))),
            other => Err(wrong_type(label, "an integer", &other)),
        },
        AttrType::DateTime => match value {
            Value::String(s) if is_datetime(&s) => Ok(Some(Value::String(s))),
            other => Err(wrong_type(label, "a dateTime (RFC 3339)", &other)),
        },
        AttrType::Complex => check_complex(def, label, value),
    }
}

fn check_complex(def: &'static AttrDef, label: &str, value: Value) -> CoreResult<Option<Value>> {
    let has_value_sub = find_attr(def.sub_attributes, "value").is_some();
    let value = match value {
        // ENTRA-MANAGER-STRING: a bare id where `{"value": id}` belongs.
        Value::String(s) if has_value_sub => {
            let mut m = Map::new();
            m.insert("value".to_string(), Value::String(s));
            Value::Object(m)
        }
        // Older Entra sample: `"manager": [{"value": …}]` for a single-valued complex attribute.
        Value::Array(mut items) if !def.multi_valued && items.len() == 1 => {
            items.pop().unwrap_or(Value::Null)
        }
        other => other,
    };
    let Value::Object(m) = value else {
        return Err(wrong_type(label, "a complex object", &value));
    };
    let mut out = Map::new();
    for (k, v) in m {
        no_nul_str(&k, "attribute names")?;
        match find_attr(def.sub_attributes, &k) {
            Some(sd) => {
                if sd.mutability == Mutability::ReadOnly && def.mutability != Mutability::ReadOnly {
                    // e.g. manager.displayName: readOnly, ignored on input (RFC 7644 §3.5.1).
                    continue;
                }
                if let Some(x) = check_attr_value(sd, &format!("{label}.{}", sd.name), v)? {
                    out.insert(sd.name.to_string(), x);
                }
            }
            None => {
                // Unknown sub-attribute (OneLogin's manager.managerId): kept verbatim.
                if !v.is_null() {
                    no_nul(&format!("{label}.{k}"), &v)?;
                    set_ci(&mut out, &k, v);
                }
            }
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

fn is_datetime(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// `"primary": true` in a multi-valued element (key matched case-insensitively).
pub(crate) fn is_primary(elem: &Value) -> bool {
    elem.as_object()
        .and_then(|m| get_ci(m, "primary"))
        .is_some_and(|v| v == &Value::Bool(true))
}

/// Parse a Group `members` value (a list of `{value, display?, type?, $ref?}`; a single object and bare id
/// strings are tolerated; `$ref: null` is fine, ENTRA-REF-NULL). Values must be non-empty strings.
/// Duplicates are removed (first wins).
pub(crate) fn parse_member_list(value: Value, label: &str) -> CoreResult<Vec<MemberRef>> {
    let items = match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let mut out: Vec<MemberRef> = Vec::with_capacity(items.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        // the element's label is built only for an error message
        if let Some(m) = parse_member(item, || format!("{label}[{i}]"))? {
            if seen.insert(m.value.clone()) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

fn parse_member(item: Value, label: impl Fn() -> String) -> CoreResult<Option<MemberRef>> {
    if has_nul(&item) {
        return Err(nul_error(&label()));
    }
    match item {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(MemberRef {
            value: member_value(Some(Value::String(s)), &label)?,
            display: None,
            kind: None,
        })),
        Value::Object(mut m) => {
            let mut take = |name: &str| key_ci(&m, name).and_then(|k| m.shift_remove(&k));
            let value = member_value(take("value"), &label)?;
            let display = match take("display") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s),
                Some(other) => {
                    return Err(wrong_type(
                        &format!("{}.display", label()),
                        "a string",
                        &other,
                    ))
                }
            };
            let kind = match take("type") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.eq_ignore_ascii_case("user") => {
                    Some("User".to_string())
                }
                Some(Value::String(s)) if s.eq_ignore_ascii_case("group") => {
                    Some("Group".to_string())
                }
                Some(_) => {
                    return Err(CoreError::invalid_value(format!(
                        "'{}.type' must be \"User\" or \"Group\" (RFC 7643 §4.2)",
                        label()
                    )))
                }
            };
            Ok(Some(MemberRef {
                value,
                display,
                kind,
            }))
        }
        other => Err(wrong_type(
            &label(),
            "an object with a non-empty string 'value'",
            &other,
        )),
    }
}

fn member_value(v: Option<Value>, label: &impl Fn() -> String) -> CoreResult<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(CoreError::invalid_value(format!(
            "'{}.value' must be a non-empty member id",
            label()
        ))),
        None | Some(Value::Null) => Err(CoreError::invalid_value(format!(
            "'{}.value' is required: the id of a User or Group",
            label()
        ))),
        Some(other) => Err(wrong_type(
            &format!("{}.value", label()),
            "a string",
            &other,
        )),
    }
}
