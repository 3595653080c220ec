//! RFC 7644 §3.5.2 PATCH applied to a stored (canonical) document, with the IdP tolerances of
//! docs/IDP-QUIRKS.md §3. Group membership never lives in the document: operations on `members` are
//! returned as [`MemberOp`]s, in the order of the operations, for the store to apply.
//!
//! Paths are parsed with `scim_v2::filter::PatchPath`; attribute names compare case-insensitively
//! (RFC 7643 §2.1) and are stored under their canonical names.

use std::collections::HashSet;

use scim_v2::filter::{
    AttrExp, AttrPath, CompValue, CompareOp, PatchPath, PatchValuePath, ValFilter,
};
use scimgate_connectors::{coerce_value, OpKind, PatchOp, ResourceKind};
use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult, ScimType};
use crate::scim::schema::{
    canonicalize_kind, check_attr_value, check_element, core_attr, find_attr, fingerprint, get_ci,
    is_primary, json_type, key_ci, no_nul, no_nul_str, parse_member_list, set_ci, wrong_type,
    AttrDef, AttrType, Kind, MemberRef, Mutability, ENTERPRISE_USER, ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA, USER_SCHEMA,
};

/// A change of a Group's membership requested by a PATCH. The store checks that added ids are users or
/// groups of the same directory; removing a non-member is a no-op (IDEMPOTENT-MEMBERSHIP).
#[derive(Debug, Clone, PartialEq)]
pub enum MemberOp {
    /// `add` path `members` (or a path-less add whose value has `members`).
    Add(Vec<MemberRef>),
    /// Remove exactly these ids: `members[value eq "x" or value eq "y"]` (MEMBERS-FILTER-REMOVE) or
    /// `remove` path `members` with a value list (ENTRA-REMOVE-MEMBERS-VALUE).
    Remove(Vec<String>),
    /// `remove` path `members` without a value (RFC 7644 §3.5.2.2).
    RemoveAll,
    /// `replace` path `members` (or a path-less replace whose value has `members`): the new full list.
    Replace(Vec<MemberRef>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchOutcome {
    /// In the order of the operations.
    pub member_ops: Vec<MemberOp>,
}

/// Apply RFC 7644 §3.5.2 operations to a stored (canonical, as produced by `canonicalize`) document, in
/// order, atomically from the caller's point of view: `doc` is only replaced when every operation succeeded
/// and the result is still a valid resource (it is re-canonicalized, so `schemas` follows the extensions
/// present).
///
/// `id` is the resource's id: a path-less value carrying `"id"` equal to it (or `null`) is ignored, a
/// different one is a `mutability` error (OKTA-GROUP-RENAME-ID).
pub fn apply_patch(
    kind: ResourceKind,
    id: &str,
    doc: &mut Map<String, Value>,
    ops: &[PatchOp],
) -> CoreResult<PatchOutcome> {
    let kind = Kind::of(&kind);
    let mut work = doc.clone();
    let mut member_ops = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let mut ctx = Ctx {
            kind,
            id,
            doc: &mut work,
            member_ops: &mut member_ops,
        };
        ctx.apply(op)
            .map_err(|e| prefixed(&format!("Operations[{i}]: "), e))?;
    }
    let canonical = canonicalize_kind(kind, Value::Object(work))
        .map_err(|e| prefixed("the patched resource is invalid: ", e))?;
    *doc = canonical.doc;
    Ok(PatchOutcome { member_ops })
}

fn prefixed(prefix: &str, e: CoreError) -> CoreError {
    match e {
        CoreError::BadRequest { scim_type, detail } => CoreError::BadRequest {
            scim_type,
            detail: format!("{prefix}{detail}"),
        },
        other => other,
    }
}

/// Where an attribute lives in the document.
#[derive(Debug, Clone)]
enum Loc {
    /// Top level (core schema and common attributes).
    Core,
    /// The object under the enterprise URN key.
    Enterprise,
    /// The object under an unknown extension URN key (as sent).
    Ext(String),
}

#[derive(Debug)]
enum Target {
    /// Group `members`: never stored in the document.
    Members {
        filter: Option<ValFilter>,
        sub: Option<String>,
    },
    /// The core schema URN itself as a path.
    CoreObject,
    /// A whole extension object (enterprise or unknown).
    ExtObject(Loc),
    Attr(AttrTarget),
}

#[derive(Debug)]
struct AttrTarget {
    loc: Loc,
    /// Canonical name when known, else as sent.
    name: String,
    def: Option<&'static AttrDef>,
    filter: Option<ValFilter>,
    sub: Option<String>,
    sub_def: Option<&'static AttrDef>,
    /// The path as sent, for error details.
    path: String,
}

impl AttrTarget {
    fn unknown(loc: Loc, name: &str) -> Self {
        AttrTarget {
            loc,
            name: name.to_string(),
            def: None,
            filter: None,
            sub: None,
            sub_def: None,
            path: name.to_string(),
        }
    }

    fn case_exact(&self) -> impl Fn(&str) -> bool + 'static {
        let def = self.def;
        move |name: &str| {
            def.and_then(|d| find_attr(d.sub_attributes, name))
                .is_some_and(|s| s.case_exact)
        }
    }
}

/// The new content for the matched elements of a value-filtered operation.
enum NewContent {
    Sub(Option<Value>),
    Elem(Map<String, Value>),
}

struct Ctx<'a> {
    kind: Kind,
    id: &'a str,
    doc: &'a mut Map<String, Value>,
    member_ops: &'a mut Vec<MemberOp>,
}

impl Ctx<'_> {
    fn apply(&mut self, op: &PatchOp) -> CoreResult<()> {
        let path = op.path.as_deref().map(str::trim).filter(|p| !p.is_empty());
        let is_add = matches!(op.op, OpKind::Add);
        let (name, section) = if is_add {
            ("add", "3.5.2.1")
        } else {
            ("replace", "3.5.2.3")
        };
        match (&op.op, path) {
            (OpKind::Remove, None) => Err(CoreError::no_target(
                "a remove operation requires a \"path\" (RFC 7644 §3.5.2.2)",
            )),
            (OpKind::Remove, Some(p)) => {
                let target = self.resolve(p, false, false)?;
                self.remove(target, op.value.as_ref())
            }
            (_, None) => match op.value.clone() {
                // OKTA-PATCH-NOPATH, ENTRA-NOPATH-DOTTED-KEYS: each key is a path.
                Some(Value::Object(obj)) => self.pathless(is_add, obj),
                Some(other) => Err(CoreError::invalid_value(format!(
                    "an '{name}' operation without a \"path\" needs an object value (RFC 7644 §{section}), got {}",
                    json_type(&other)
                ))),
                None => Err(CoreError::invalid_value(format!(
                    "an '{name}' operation requires a \"value\" (RFC 7644 §{section})"
                ))),
            },
            (_, Some(p)) => {
                let Some(value) = op.value.clone() else {
                    return Err(CoreError::invalid_value(format!(
                        "an '{name}' operation requires a \"value\" (RFC 7644 §{section})"
                    )));
                };
                let target = self.resolve(p, value.is_object(), false)?;
                self.set(target, is_add, value, false)
            }
        }
    }

    /// Path-less add/replace: every key of the value object is applied as a path (RFC 7644 §3.5.2.1/3;
    /// OKTA-PATCH-NOPATH, ENTRA-NOPATH-DOTTED-KEYS). `schemas` and `meta` are ignored, `id` must equal the
    /// resource id (OKTA-GROUP-RENAME-ID), other readOnly/writeOnly keys are ignored as in a PUT.
    fn pathless(&mut self, is_add: bool, obj: Map<String, Value>) -> CoreResult<()> {
        for (key, value) in obj {
            let k = key.trim();
            if k.eq_ignore_ascii_case("schemas") || k.eq_ignore_ascii_case("meta") {
                continue;
            }
            if k.eq_ignore_ascii_case("id") {
                match &value {
                    Value::Null => continue,
                    Value::String(s) if s == self.id => continue,
                    _ => {
                        return Err(CoreError::mutability(
                            "'id' is readOnly and differs from the resource's id (RFC 7643 §3.1)",
                        ))
                    }
                }
            }
            let target = self.resolve(k, value.is_object(), true)?;
            self.set(target, is_add, value, true)?;
        }
        Ok(())
    }

    /// Resolve a path (or a path-less key when `lenient`) into a target.
    fn resolve(&self, path: &str, value_is_object: bool, lenient: bool) -> CoreResult<Target> {
        let p = path.trim();
        if p.is_empty() {
            return Err(CoreError::invalid_path(
                "invalid path '': the path is empty",
            ));
        }
        let core_urn = self.kind.core().id;
        if p.eq_ignore_ascii_case(core_urn) {
            return Ok(Target::CoreObject);
        }
        if self.kind == Kind::User && p.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) {
            return Ok(Target::ExtObject(Loc::Enterprise));
        }
        if p.contains(':')
            && !p.contains('[')
            && key_ci(self.doc, p).is_some_and(|k| self.doc.get(&k).is_some_and(Value::is_object))
        {
            // An extension object already stored under exactly this key.
            return Ok(Target::ExtObject(Loc::Ext(p.to_string())));
        }
        let parsed = match plain_attr_path(p).map_or_else(|| p.parse::<PatchPath>(), Ok) {
            Ok(parsed) => parsed,
            Err(e) => {
                if lenient && !p.contains('[') {
                    if !p.contains(':') {
                        // A key of a path-less value that is no ATTRNAME: kept verbatim, like in a POST.
                        return Ok(Target::Attr(AttrTarget::unknown(Loc::Core, p)));
                    }
                    if value_is_object {
                        return Ok(Target::ExtObject(Loc::Ext(p.to_string())));
                    }
                }
                return Err(CoreError::invalid_path(format!("invalid path '{p}': {e}")));
            }
        };
        let (attr, filter, value_sub) = match parsed {
            PatchPath::Attr(a) => (a, None, None),
            PatchPath::Value(PatchValuePath {
                attr,
                filter,
                sub_attr,
            }) => (attr, Some(filter), sub_attr),
        };
        let AttrPath {
            uri,
            name,
            sub_attr,
        } = attr;
        if filter.is_some() && sub_attr.is_some() {
            return Err(CoreError::invalid_path(format!(
                "invalid path '{p}': a value filter must follow the attribute name"
            )));
        }
        let sub = sub_attr.or(value_sub);
        let loc = match uri.as_deref() {
            None => Loc::Core,
            Some(u) if u.eq_ignore_ascii_case(core_urn) => Loc::Core,
            Some(u)
                if self.kind == Kind::User && u.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) =>
            {
                Loc::Enterprise
            }
            Some(u)
                if [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA]
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(u)) =>
            {
                return Err(CoreError::invalid_path(format!(
                    "invalid path '{p}': schema '{u}' does not apply to {}s",
                    self.kind.label()
                )));
            }
            Some(u) => {
                // Unknown extension (kept, PRODUCT.md). `urn:x:2.0:User` parses as uri `urn:x:2.0` + name
                // `User`: that, or an object value for a URN not yet stored, is the whole extension object.
                let whole = filter.is_none()
                    && sub.is_none()
                    && ((value_is_object && key_ci(self.doc, u).is_none())
                        || name.eq_ignore_ascii_case("User")
                        || name.eq_ignore_ascii_case("Group"));
                if whole {
                    return Ok(Target::ExtObject(Loc::Ext(p.to_string())));
                }
                Loc::Ext(u.to_string())
            }
        };
        let (loc, def) = match loc {
            Loc::Core => match core_attr(self.kind, &name) {
                Some(d) => (Loc::Core, Some(d)),
                // Older Entra sample: `path: "manager"` without the extension URN.
                None if self.kind == Kind::User && uri.is_none() => {
                    match find_attr(ENTERPRISE_USER.attributes, &name) {
                        Some(d) => (Loc::Enterprise, Some(d)),
                        None => (Loc::Core, None),
                    }
                }
                None => (Loc::Core, None),
            },
            Loc::Enterprise => (
                Loc::Enterprise,
                find_attr(ENTERPRISE_USER.attributes, &name),
            ),
            ext => (ext, None),
        };
        if self.kind == Kind::Group
            && matches!(loc, Loc::Core)
            && def.is_some_and(|d| d.name == "members")
        {
            return Ok(Target::Members { filter, sub });
        }
        let mut sub_def = None;
        if let (Some(d), Some(s)) = (def, sub.as_deref()) {
            if d.ty != AttrType::Complex {
                return Err(CoreError::invalid_path(format!(
                    "invalid path '{p}': '{}' has no sub-attributes",
                    d.name
                )));
            }
            sub_def = find_attr(d.sub_attributes, s);
        }
        if let (Some(d), Some(_)) = (def, filter.as_ref()) {
            if !d.multi_valued {
                return Err(CoreError::invalid_path(format!(
                    "invalid path '{p}': a value filter needs a multi-valued attribute and '{}' is single-valued",
                    d.name
                )));
            }
        }
        Ok(Target::Attr(AttrTarget {
            loc,
            name: def.map_or(name, |d| d.name.to_string()),
            def,
            filter,
            sub: sub_def.map(|d| d.name.to_string()).or(sub),
            sub_def,
            path: p.to_string(),
        }))
    }

    fn set(
        &mut self,
        target: Target,
        is_add: bool,
        value: Value,
        pathless: bool,
    ) -> CoreResult<()> {
        match target {
            Target::Members { filter, sub } => {
                if filter.is_some() || sub.is_some() {
                    return Err(CoreError::invalid_path(
                        "invalid path: a value filter or sub-attribute of 'members' is only supported by remove; add/replace take a list of members",
                    ));
                }
                if value.is_null() {
                    // Never wipe a group on an ambiguous null (NOPATH-REPLACE-MEMBERS-WIPE).
                    return Ok(());
                }
                let refs = parse_member_list(value, "members")?;
                self.member_ops.push(if is_add {
                    MemberOp::Add(refs)
                } else {
                    MemberOp::Replace(refs)
                });
                Ok(())
            }
            Target::CoreObject => match value {
                Value::Object(obj) => self.pathless(is_add, obj),
                Value::Null => Ok(()),
                other => Err(wrong_type(self.kind.core().id, "an object", &other)),
            },
            Target::ExtObject(loc) => self.set_ext_object(loc, is_add, value),
            Target::Attr(t) => self.set_attr(t, is_add, value, pathless),
        }
    }

    /// A whole extension object: merged key by key (like a complex attribute, RFC 7644 §3.5.2.3).
    fn set_ext_object(&mut self, loc: Loc, is_add: bool, value: Value) -> CoreResult<()> {
        match (loc, value) {
            (loc, Value::Null) => {
                if !is_add {
                    remove_container(self.doc, &loc);
                }
                Ok(())
            }
            (Loc::Enterprise, Value::Object(obj)) => {
                for (k, v) in obj {
                    let path = format!("{ENTERPRISE_USER_SCHEMA}:{}", k.trim());
                    let target = self.resolve(&path, v.is_object(), true)?;
                    self.set(target, is_add, v, true)?;
                }
                Ok(())
            }
            (Loc::Ext(key), Value::Object(obj)) => {
                let label = key.clone();
                let container = container_create(self.doc, &Loc::Ext(key))?;
                for (k, v) in obj {
                    no_nul(&label, &v)?;
                    no_nul_str(&k, &label)?;
                    set_ci(container, &k, v);
                }
                Ok(())
            }
            (Loc::Ext(key), other) => {
                no_nul(&key, &other)?;
                set_ci(self.doc, &key, other);
                Ok(())
            }
            (_, other) => Err(wrong_type(ENTERPRISE_USER_SCHEMA, "an object", &other)),
        }
    }

    fn set_attr(
        &mut self,
        t: AttrTarget,
        is_add: bool,
        value: Value,
        pathless: bool,
    ) -> CoreResult<()> {
        if let Some(d) = t.def {
            match d.mutability {
                Mutability::ReadOnly if pathless => return Ok(()),
                Mutability::ReadOnly => return Err(read_only(&t.path, d.name)),
                // `password`: never stored (OKTA-CREATE-PASSWORD-GROUPS); changePassword is unsupported.
                Mutability::WriteOnly => return Ok(()),
                Mutability::ReadWrite | Mutability::Immutable => {}
            }
        }
        if let Some(sd) = t.sub_def {
            if sd.mutability == Mutability::ReadOnly {
                return if pathless {
                    Ok(())
                } else {
                    Err(read_only(&t.path, sd.name))
                };
            }
        }
        let whole_multi =
            t.def.is_some_and(|d| d.multi_valued) && t.filter.is_none() && t.sub.is_none();
        if value.is_null() && !(is_add && whole_multi) {
            // RFC 7643 §2.5: null is "unassigned".
            return self.remove_attr(t, None);
        }
        match (t.filter.is_some(), t.sub.clone()) {
            (false, None) => self.set_whole(t, is_add, value),
            (false, Some(sub)) => self.set_sub(t, &sub, value),
            (true, _) => self.set_filtered(t, is_add, value),
        }
    }

    /// No filter, no sub-attribute.
    fn set_whole(&mut self, t: AttrTarget, is_add: bool, value: Value) -> CoreResult<()> {
        let container = container_create(self.doc, &t.loc)?;
        let Some(def) = t.def else {
            // Unknown attribute: verbatim (tolerance, PRODUCT.md).
            no_nul(&t.path, &value)?;
            let key = key_ci(container, &t.name).unwrap_or(t.name);
            match (is_add, container.get_mut(&key), value) {
                (true, Some(Value::Array(existing)), Value::Array(new)) => {
                    append_new(existing, new);
                }
                (_, _, v) => {
                    container.insert(key, v);
                }
            }
            return Ok(());
        };
        if def.multi_valued {
            let items = match check_attr_value(def, &t.path, value)? {
                Some(Value::Array(items)) => items,
                Some(other) => vec![other],
                None => Vec::new(),
            };
            if is_add {
                // RFC 7644 §3.5.2.1: the values are added; exact duplicates are skipped.
                if items.is_empty() {
                    return Ok(());
                }
                let key = key_ci(container, def.name).unwrap_or_else(|| def.name.to_string());
                let arr = array_slot(container.entry(key).or_insert(Value::Array(Vec::new())))?;
                let touched = append_new(arr, items);
                settle_primary(arr, &touched);
            } else if items.is_empty() {
                remove_ci(container, def.name);
            } else {
                // RFC 7644 §3.5.2.3: without a filter the whole set of values is replaced.
                set_ci(container, def.name, Value::Array(items));
            }
            return Ok(());
        }
        match check_attr_value(def, &t.path, value)? {
            // RFC 7644 §3.5.2.1/§3.5.2.3: a complex value merges its sub-attributes; add on a
            // single-valued attribute is a replace (ENTRA-ADD-SINGLE-VALUED).
            Some(Value::Object(new)) if def.ty == AttrType::Complex => {
                merge_complex(container, def, new);
            }
            Some(v) => set_ci(container, def.name, v),
            None => {
                if def.ty != AttrType::Complex {
                    remove_ci(container, def.name);
                }
            }
        }
        Ok(())
    }

    /// `name.familyName`, `urn:…:manager.value`, `emails.value` (no filter).
    fn set_sub(&mut self, t: AttrTarget, sub: &str, value: Value) -> CoreResult<()> {
        let checked = check_sub(&t, value)?;
        let multi = t.def.is_some_and(|d| d.multi_valued);
        let container = container_create(self.doc, &t.loc)?;
        let key = key_ci(container, &t.name).unwrap_or_else(|| t.name.clone());
        match container.get_mut(&key) {
            Some(Value::Object(m)) => put_or_remove(m, sub, checked),
            // A sub-attribute of a multi-valued attribute without a filter: every value (RFC 7644
            // §3.5.2 leaves this open); with no values yet, one is created.
            Some(Value::Array(items)) if !items.is_empty() => {
                for e in items.iter_mut() {
                    if let Value::Object(m) = e {
                        put_or_remove(m, sub, checked.clone());
                    }
                }
            }
            None | Some(Value::Null) | Some(Value::Array(_)) => {
                if let Some(v) = checked {
                    let mut elem = Map::new();
                    elem.insert(sub.to_string(), v);
                    let new = if multi {
                        Value::Array(vec![Value::Object(elem)])
                    } else {
                        Value::Object(elem)
                    };
                    container.insert(key, new);
                }
            }
            Some(_) => {
                return Err(CoreError::invalid_path(format!(
                    "invalid path '{}': '{}' is not a complex attribute",
                    t.path, t.name
                )))
            }
        }
        Ok(())
    }

    /// `emails[type eq "work"]`, `emails[type eq "work"].value`, `addresses[type eq "work"].streetAddress`.
    fn set_filtered(&mut self, t: AttrTarget, is_add: bool, value: Value) -> CoreResult<()> {
        let Some(filter) = t.filter.as_ref() else {
            return Ok(());
        };
        let new = match &t.sub {
            Some(_) => NewContent::Sub(check_sub(&t, value)?),
            None => {
                let elem = match t.def {
                    Some(d) => check_element(d, &t.path, value)?,
                    None => {
                        no_nul(&t.path, &value)?;
                        Some(value)
                    }
                };
                match elem {
                    Some(Value::Object(m)) => NewContent::Elem(m),
                    None => NewContent::Elem(Map::new()),
                    Some(other) => {
                        return Err(wrong_type(
                            &t.path,
                            "an object (one value of a multi-valued attribute)",
                            &other,
                        ))
                    }
                }
            }
        };
        let case_exact = t.case_exact();
        let container = container_create(self.doc, &t.loc)?;
        let key = key_ci(container, &t.name).unwrap_or_else(|| t.name.clone());
        let items = array_slot(container.entry(key).or_insert(Value::Array(Vec::new())))?;
        let matched: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, e)| matches(filter, e, &case_exact))
            .map(|(i, _)| i)
            .collect();
        let touched = if matched.is_empty() {
            // Entra updates `emails[type eq "work"].value` on users without a work email: a `type eq`
            // filter that matches nothing creates the value; any other filter is noTarget (§3.5.2.3).
            let Some(type_value) = type_eq_literal(filter) else {
                return Err(CoreError::no_target(format!(
                    "no value of '{}' matches the filter of '{}' (RFC 7644 §3.5.2.3)",
                    t.name, t.path
                )));
            };
            no_nul_str(&type_value, &t.path)?;
            let mut elem = Map::new();
            elem.insert("type".to_string(), Value::String(type_value));
            match new {
                NewContent::Sub(Some(v)) => {
                    let sub = t.sub.as_deref().unwrap_or("value");
                    set_ci(&mut elem, sub, v);
                }
                NewContent::Sub(None) => return Ok(()),
                NewContent::Elem(m) => {
                    for (k, v) in m {
                        set_ci(&mut elem, &k, v);
                    }
                }
            }
            items.push(Value::Object(elem));
            vec![items.len().saturating_sub(1)]
        } else {
            for &i in &matched {
                let Some(item) = items.get_mut(i) else {
                    continue;
                };
                match (&new, item) {
                    (NewContent::Sub(v), Value::Object(e)) => {
                        if let Some(sub) = t.sub.as_deref() {
                            put_or_remove(e, sub, v.clone());
                        }
                    }
                    (NewContent::Sub(_), _) => {}
                    (NewContent::Elem(m), Value::Object(e)) if is_add => {
                        for (k, v) in m {
                            set_ci(e, k, v.clone());
                        }
                    }
                    // RFC 7644 §3.5.2.3: "all matching record values SHALL be replaced".
                    (NewContent::Elem(m), item) => *item = Value::Object(m.clone()),
                }
            }
            matched
        };
        settle_primary(items, &touched);
        Ok(())
    }

    fn remove(&mut self, target: Target, value: Option<&Value>) -> CoreResult<()> {
        match target {
            Target::Members { filter, sub } => {
                if sub.is_some() {
                    return Err(CoreError::invalid_path(
                        "invalid path: sub-attributes of 'members' cannot be removed; remove the member instead",
                    ));
                }
                let op = match (filter, value) {
                    // MEMBERS-FILTER-REMOVE
                    (Some(f), _) => {
                        let mut ids = Vec::new();
                        member_filter_ids(&f, &mut ids)?;
                        let mut seen = HashSet::with_capacity(ids.len());
                        ids.retain(|id| seen.insert(id.clone()));
                        MemberOp::Remove(ids)
                    }
                    // RFC 7644 §3.5.2.2: no filter, no value: all members.
                    (None, None | Some(Value::Null)) => MemberOp::RemoveAll,
                    // ENTRA-REMOVE-MEMBERS-VALUE: only the listed ones.
                    (None, Some(v)) => MemberOp::Remove(
                        parse_member_list(v.clone(), "members")?
                            .into_iter()
                            .map(|m| m.value)
                            .collect(),
                    ),
                };
                self.member_ops.push(op);
                Ok(())
            }
            Target::CoreObject => Err(CoreError::invalid_path(format!(
                "invalid path '{}': the core schema cannot be removed",
                self.kind.core().id
            ))),
            Target::ExtObject(loc) => {
                remove_container(self.doc, &loc);
                Ok(())
            }
            Target::Attr(t) => self.remove_attr(t, value),
        }
    }

    /// RFC 7644 §3.5.2.2. Removing something absent is a no-op.
    fn remove_attr(&mut self, t: AttrTarget, value: Option<&Value>) -> CoreResult<()> {
        if let Some(d) = t.def {
            match d.mutability {
                Mutability::ReadOnly => return Err(read_only(&t.path, d.name)),
                Mutability::WriteOnly => return Ok(()),
                Mutability::ReadWrite | Mutability::Immutable => {}
            }
            if d.required && t.filter.is_none() && t.sub.is_none() {
                return Err(CoreError::invalid_value(format!(
                    "'{}' is required and cannot be removed (RFC 7643 §{})",
                    d.name,
                    if self.kind == Kind::User {
                        "4.1"
                    } else {
                        "4.2"
                    }
                )));
            }
        }
        if let Some(sd) = t.sub_def {
            if sd.mutability == Mutability::ReadOnly {
                return Err(read_only(&t.path, sd.name));
            }
        }
        let case_exact = t.case_exact();
        let Some(container) = container_get(self.doc, &t.loc) else {
            return Ok(());
        };
        let Some(key) = key_ci(container, &t.name) else {
            return Ok(());
        };
        match (&t.filter, t.sub.as_deref()) {
            (None, None) => match (t.def, value) {
                // Tolerance mirroring ENTRA-REMOVE-MEMBERS-VALUE for other multi-valued attributes.
                (Some(d), Some(v)) if d.multi_valued && !v.is_null() => {
                    let value_ce =
                        find_attr(d.sub_attributes, "value").is_some_and(|s| s.case_exact);
                    let given = GivenValues::new(v, value_ce);
                    if let Some(Value::Array(items)) = container.get_mut(&key) {
                        items.retain(|e| !given.contains(e));
                    }
                }
                _ => {
                    container.shift_remove(&key);
                }
            },
            (None, Some(sub)) => match container.get_mut(&key) {
                Some(Value::Object(m)) => remove_ci(m, sub),
                Some(Value::Array(items)) => {
                    for e in items.iter_mut() {
                        if let Value::Object(m) = e {
                            remove_ci(m, sub);
                        }
                    }
                }
                _ => {}
            },
            (Some(f), sub) => {
                if let Some(Value::Array(items)) = container.get_mut(&key) {
                    match sub {
                        None => items.retain(|e| !matches(f, e, &case_exact)),
                        Some(s) => {
                            for e in items.iter_mut() {
                                if matches(f, e, &case_exact) {
                                    if let Value::Object(m) = e {
                                        remove_ci(m, s);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Fast path for the common `attr` / `attr.sub` paths (what the parser would return for them).
fn plain_attr_path(p: &str) -> Option<PatchPath> {
    crate::scim::filter::plain_attr(p).map(PatchPath::Attr)
}

fn read_only(path: &str, name: &str) -> CoreError {
    CoreError::mutability(format!(
        "'{path}': attribute '{name}' is readOnly (RFC 7643 §2.2) and cannot be modified"
    ))
}

fn check_sub(t: &AttrTarget, value: Value) -> CoreResult<Option<Value>> {
    match t.sub_def {
        Some(sd) => check_attr_value(sd, &t.path, value),
        None => {
            no_nul(&t.path, &value)?;
            Ok((!value.is_null()).then_some(value))
        }
    }
}

fn put_or_remove(m: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    match value {
        Some(v) => set_ci(m, name, v),
        None => remove_ci(m, name),
    }
}

fn remove_ci(m: &mut Map<String, Value>, name: &str) {
    if let Some(k) = key_ci(m, name) {
        m.shift_remove(&k);
    }
}

/// Merge a checked complex value into the stored one. When the referent changes (`value` differs, e.g. a new
/// manager id) the old object describes someone else and is replaced instead.
fn merge_complex(container: &mut Map<String, Value>, def: &AttrDef, new: Map<String, Value>) {
    let key = key_ci(container, def.name).unwrap_or_else(|| def.name.to_string());
    match container.get_mut(&key) {
        Some(Value::Object(old)) => {
            let changed = match (get_ci(old, "value"), get_ci(&new, "value")) {
                (Some(a), Some(b)) => a != b,
                _ => false,
            };
            if changed {
                *old = new;
            } else {
                for (k, v) in new {
                    set_ci(old, &k, v);
                }
            }
        }
        _ => {
            container.insert(key, Value::Object(new));
        }
    }
}

/// RFC 7644 §3.5.2: when a value is set to `"primary": true`, the others lose it.
fn settle_primary(items: &mut [Value], touched: &[usize]) {
    let chosen = touched
        .iter()
        .rev()
        .copied()
        .find(|&i| items.get(i).is_some_and(is_primary));
    if let Some(chosen) = chosen {
        for (i, e) in items.iter_mut().enumerate() {
            if i != chosen && is_primary(e) {
                if let Value::Object(m) = e {
                    set_ci(m, "primary", Value::Bool(false));
                }
            }
        }
    }
}

/// `x eq "y"` with x = `type`: the only filter for which a missing value is created.
fn type_eq_literal(f: &ValFilter) -> Option<String> {
    match f {
        ValFilter::Attr(AttrExp::Comparison(p, CompareOp::Eq, CompValue::Str(s)))
            if p.sub_attr.is_none() && p.name.eq_ignore_ascii_case("type") =>
        {
            Some(s.clone())
        }
        _ => None,
    }
}

/// Ids of `members[value eq "a" or value eq "b"]`; anything else is invalidFilter.
fn member_filter_ids(f: &ValFilter, out: &mut Vec<String>) -> CoreResult<()> {
    match f {
        ValFilter::Attr(AttrExp::Comparison(p, CompareOp::Eq, CompValue::Str(s)))
            if p.sub_attr.is_none() && p.name.eq_ignore_ascii_case("value") =>
        {
            if s.trim().is_empty() {
                return Err(CoreError::invalid_value(
                    "a member id in a 'members[value eq …]' filter must be non-empty",
                ));
            }
            no_nul_str(s, "members")?;
            out.push(s.clone());
            Ok(())
        }
        ValFilter::Or(items) => {
            for item in items.iter() {
                member_filter_ids(item, out)?;
            }
            Ok(())
        }
        other => Err(CoreError::bad(
            ScimType::InvalidFilter,
            format!(
                "unsupported filter on 'members': '{other}'; only 'value eq \"<id>\"' terms joined by 'or' are supported"
            ),
        )),
    }
}

fn container_create<'a>(
    doc: &'a mut Map<String, Value>,
    loc: &Loc,
) -> CoreResult<&'a mut Map<String, Value>> {
    let key = match loc {
        Loc::Core => return Ok(doc),
        Loc::Enterprise => ENTERPRISE_USER_SCHEMA.to_string(),
        Loc::Ext(k) => k.clone(),
    };
    let key = key_ci(doc, &key).unwrap_or(key);
    let slot = doc.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| CoreError::internal("extension slot is not an object"))
}

fn container_get<'a>(
    doc: &'a mut Map<String, Value>,
    loc: &Loc,
) -> Option<&'a mut Map<String, Value>> {
    let key = match loc {
        Loc::Core => return Some(doc),
        Loc::Enterprise => ENTERPRISE_USER_SCHEMA,
        Loc::Ext(k) => k.as_str(),
    };
    let key = key_ci(doc, key)?;
    doc.get_mut(&key)?.as_object_mut()
}

fn remove_container(doc: &mut Map<String, Value>, loc: &Loc) {
    match loc {
        Loc::Core => {}
        Loc::Enterprise => remove_ci(doc, ENTERPRISE_USER_SCHEMA),
        Loc::Ext(k) => remove_ci(doc, k),
    }
}

/// The array stored in `slot` (a stray single value is wrapped, null becomes empty).
fn array_slot(slot: &mut Value) -> CoreResult<&mut Vec<Value>> {
    if !slot.is_array() {
        let old = std::mem::take(slot);
        *slot = Value::Array(if old.is_null() { Vec::new() } else { vec![old] });
    }
    slot.as_array_mut()
        .ok_or_else(|| CoreError::internal("multi-valued slot is not an array"))
}

/// Append the values not already present (exact duplicates skipped, hash-based so large lists stay
/// linear); returns the indices of the appended values.
fn append_new(arr: &mut Vec<Value>, new: Vec<Value>) -> Vec<usize> {
    let mut seen: HashSet<String> = arr.iter().map(fingerprint).collect();
    let mut touched = Vec::new();
    for item in new {
        if seen.insert(fingerprint(&item)) {
            arr.push(item);
            touched.push(arr.len().saturating_sub(1));
        }
    }
    touched
}

/// The value list of a `remove` on a multi-valued attribute: an element goes when it equals one of them
/// or has the same `value` sub-attribute (case per the attribute's `caseExact`).
struct GivenValues {
    whole: HashSet<String>,
    values: HashSet<String>,
    case_exact: bool,
}

impl GivenValues {
    fn new(v: &Value, case_exact: bool) -> Self {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let mut given = GivenValues {
            whole: HashSet::with_capacity(items.len()),
            values: HashSet::with_capacity(items.len()),
            case_exact,
        };
        for item in items {
            given.whole.insert(fingerprint(item));
            if let Some(s) = given.value_of(item) {
                given.values.insert(s);
            }
        }
        given
    }

    fn value_of(&self, v: &Value) -> Option<String> {
        let s = match v {
            Value::String(s) => s.as_str(),
            Value::Object(m) => get_ci(m, "value").and_then(Value::as_str)?,
            _ => return None,
        };
        Some(if self.case_exact {
            s.to_string()
        } else {
            s.to_lowercase()
        })
    }

    fn contains(&self, elem: &Value) -> bool {
        self.whole.contains(&fingerprint(elem))
            || self
                .value_of(elem)
                .is_some_and(|s| self.values.contains(&s))
    }
}

// ---------------------------------------------------------------------------------------------
// In-memory value filter (RFC 7644 §3.4.2.2) over one element of a multi-valued attribute
// ---------------------------------------------------------------------------------------------

/// In-memory evaluation of a value filter against one element of a multi-valued attribute (used for
/// `emails[type eq "work"]`). `caseexact_of(sub_attribute_name)` tells whether string comparisons on that
/// sub-attribute are case-exact (RFC 7643 §2.2 `caseExact`); otherwise they ignore case. Attribute names
/// match case-insensitively; `"True"`/`"false"` strings compare as booleans for boolean attributes
/// (`coerce_value`); strings that are both RFC 3339 date-times order chronologically.
pub fn matches(filter: &ValFilter, elem: &Value, caseexact_of: impl Fn(&str) -> bool) -> bool {
    eval(filter, elem, &caseexact_of)
}

fn eval(f: &ValFilter, elem: &Value, ce: &dyn Fn(&str) -> bool) -> bool {
    match f {
        ValFilter::Attr(AttrExp::Present(p)) => attr_of(elem, p).is_some_and(is_present),
        ValFilter::Attr(AttrExp::Comparison(p, op, expected)) => {
            let name = p.sub_attr.as_deref().unwrap_or(&p.name);
            compare(attr_of(elem, p), name, op, expected, ce(name))
        }
        ValFilter::Not(inner) => !eval(inner, elem, ce),
        ValFilter::And(items) => items.iter().all(|i| eval(i, elem, ce)),
        ValFilter::Or(items) => items.iter().any(|i| eval(i, elem, ce)),
    }
}

fn attr_of<'v>(elem: &'v Value, p: &AttrPath) -> Option<&'v Value> {
    match elem {
        Value::Object(m) => {
            let v = get_ci(m, &p.name)?;
            match &p.sub_attr {
                None => Some(v),
                Some(s) => v.as_object().and_then(|o| get_ci(o, s)),
            }
        }
        // Simple multi-valued attributes: `value` is the element itself.
        other if p.sub_attr.is_none() && p.name.eq_ignore_ascii_case("value") => Some(other),
        _ => None,
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(
    actual: Option<&Value>,
    name: &str,
    op: &CompareOp,
    expected: &CompValue,
    case_exact: bool,
) -> bool {
    let actual = actual.filter(|v| !v.is_null());
    match (actual, expected) {
        (None, CompValue::Null) => matches!(op, CompareOp::Eq),
        (None, _) => matches!(op, CompareOp::Ne),
        (Some(_), CompValue::Null) => matches!(op, CompareOp::Ne),
        (Some(Value::Array(items)), _) => items
            .iter()
            .any(|i| compare(Some(i), name, op, expected, case_exact)),
        (Some(v), CompValue::True | CompValue::False) => {
            let want = matches!(expected, CompValue::True);
            let got = match coerce_value(name, v.clone()) {
                Value::Bool(b) => Some(b),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
                _ => None,
            };
            match op {
                CompareOp::Eq => got == Some(want),
                CompareOp::Ne => got != Some(want),
                _ => false,
            }
        }
        (Some(Value::Number(a)), CompValue::Number(b)) => ordering_matches(
            op,
            a.as_f64()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
        ),
        (Some(Value::String(a)), CompValue::Number(b)) => ordering_matches(
            op,
            a.trim()
                .parse::<f64>()
                .ok()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
        ),
        (Some(Value::String(a)), CompValue::Str(b)) => compare_str(a, b, op, case_exact),
        (Some(Value::Bool(a)), CompValue::Str(b)) => compare_str(&a.to_string(), b, op, false),
        (Some(Value::Number(a)), CompValue::Str(b)) => compare_str(&a.to_string(), b, op, true),
        _ => false,
    }
}

fn compare_str(a: &str, b: &str, op: &CompareOp, case_exact: bool) -> bool {
    let (la, lb) = if case_exact {
        (a.to_string(), b.to_string())
    } else {
        (a.to_lowercase(), b.to_lowercase())
    };
    match op {
        CompareOp::Eq => la == lb,
        CompareOp::Ne => la != lb,
        CompareOp::Co => la.contains(&lb),
        CompareOp::Sw => la.starts_with(&lb),
        CompareOp::Ew => la.ends_with(&lb),
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            let ord = match (
                chrono::DateTime::parse_from_rfc3339(a),
                chrono::DateTime::parse_from_rfc3339(b),
            ) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => la.cmp(&lb),
            };
            ordering_matches(op, Some(ord))
        }
    }
}

fn ordering_matches(op: &CompareOp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (op, ord) {
        (_, None) => matches!(op, CompareOp::Ne),
        (CompareOp::Eq, Some(o)) => o == Equal,
        (CompareOp::Ne, Some(o)) => o != Equal,
        (CompareOp::Gt, Some(o)) => o == Greater,
        (CompareOp::Ge, Some(o)) => o != Less,
        (CompareOp::Lt, Some(o)) => o == Less,
        (CompareOp::Le, Some(o)) => o != Greater,
        (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{canonicalize, ENTERPRISE_USER_SCHEMA as ENT};
    use serde_json::json;

    const UID: &str = "user_01";
    const GID: &str = "group_01";

    fn op(kind: OpKind, path: Option<&str>, value: Option<Value>) -> PatchOp {
        PatchOp {
            op: kind,
            path: path.map(str::to_string),
            value,
        }
    }
    fn add(path: &str, value: Value) -> PatchOp {
        op(OpKind::Add, Some(path), Some(value))
    }
    fn replace(path: &str, value: Value) -> PatchOp {
        op(OpKind::Replace, Some(path), Some(value))
    }
    fn remove(path: &str) -> PatchOp {
        op(OpKind::Remove, Some(path), None)
    }
    fn remove_v(path: &str, value: Value) -> PatchOp {
        op(OpKind::Remove, Some(path), Some(value))
    }
    fn add_np(value: Value) -> PatchOp {
        op(OpKind::Add, None, Some(value))
    }
    fn replace_np(value: Value) -> PatchOp {
        op(OpKind::Replace, None, Some(value))
    }

    fn canonical(kind: ResourceKind, body: Value) -> Map<String, Value> {
        match canonicalize(kind, body) {
            Ok(c) => c.doc,
            Err(e) => panic!("canonicalize failed: {e}"),
        }
    }

    /// generic_rfc7644.json user1, as stored.
    fn bjensen() -> Map<String, Value> {
        canonical(
            ResourceKind::User,
            json!({
                "schemas": [USER_SCHEMA], "userName": "bjensen@example.com", "externalId": "bjensen",
                "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
                "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
                "active": true
            }),
        )
    }

    fn group_doc() -> Map<String, Value> {
        canonical(
            ResourceKind::Group,
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Tour Guides", "externalId": "tg"}),
        )
    }

    fn patch_user(doc: &mut Map<String, Value>, ops: Vec<PatchOp>) -> CoreResult<PatchOutcome> {
        apply_patch(ResourceKind::User, UID, doc, &ops)
    }

    fn patch_group(doc: &mut Map<String, Value>, ops: Vec<PatchOp>) -> CoreResult<PatchOutcome> {
        apply_patch(ResourceKind::Group, GID, doc, &ops)
    }

    fn ok(r: CoreResult<PatchOutcome>) -> PatchOutcome {
        match r {
            Ok(o) => o,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn scim_type(r: &CoreResult<PatchOutcome>) -> Option<ScimType> {
        match r {
            Err(CoreError::BadRequest { scim_type, .. }) => *scim_type,
            _ => None,
        }
    }

    fn detail(r: &CoreResult<PatchOutcome>) -> String {
        match r {
            Err(e) => e.to_string(),
            Ok(_) => String::new(),
        }
    }

    fn v(doc: &Map<String, Value>) -> Value {
        Value::Object(doc.clone())
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn mref(v: &str) -> MemberRef {
        MemberRef {
            value: v.to_string(),
            display: None,
            kind: None,
        }
    }

    // ----- users: IdP shapes ------------------------------------------------------------------

    #[test]
    fn okta_patch_nopath_deactivate_and_reactivate() {
        // OKTA-PATCH-NOPATH (okta_lifecycle.json)
        let mut d = bjensen();
        let out = ok(patch_user(
            &mut d,
            vec![replace_np(json!({"active": false}))],
        ));
        assert!(out.member_ops.is_empty());
        assert_eq!(d["active"], json!(false));
        ok(patch_user(
            &mut d,
            vec![replace_np(json!({"active": true}))],
        ));
        assert_eq!(d["active"], json!(true));
        assert_eq!(d["userName"], json!("bjensen@example.com"));
    }

    #[test]
    fn entra_string_bool_active() {
        // ENTRA-STRING-BOOL, ENTRA-OP-CASE (op casing is the connector's job)
        let mut d = bjensen();
        ok(patch_user(&mut d, vec![replace("active", json!("False"))]));
        assert_eq!(d["active"], json!(false));
        ok(patch_user(&mut d, vec![replace("active", json!("True"))]));
        assert_eq!(d["active"], json!(true));
        ok(patch_user(
            &mut d,
            vec![replace_np(json!({"ACTIVE": "false"}))],
        ));
        assert_eq!(d["active"], json!(false));
        let r = patch_user(&mut d, vec![replace("active", json!("maybe"))]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        assert!(detail(&r).contains("active"));
    }

    #[test]
    fn entra_nopath_dotted_and_urn_keys() {
        // ENTRA-NOPATH-DOTTED-KEYS (MS compat doc shape)
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![
                replace(
                    "emails[type eq \"work\"].value",
                    json!("updated@microsoft.com"),
                ),
                replace_np(json!({
                    "name.givenName": "Kkom",
                    "name.familyName": "Unk",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": "boss"
                })),
            ],
        ));
        assert_eq!(d["emails"][0]["value"], json!("updated@microsoft.com"));
        assert_eq!(d["name"]["givenName"], json!("Kkom"));
        assert_eq!(d["name"]["familyName"], json!("Unk"));
        assert_eq!(d["name"]["formatted"], json!("Ms. Barbara J Jensen III"));
        assert_eq!(
            d[ENT],
            json!({"employeeNumber": "Aklq", "manager": {"value": "boss"}})
        );
        assert_eq!(d["schemas"], json!([USER_SCHEMA, ENT]));
    }

    #[test]
    fn entra_emails_work_value_replace() {
        // entra_lifecycle.json ENTRA-OP-CASE step; `type` compared case-insensitively (PING-TYPE-CASE)
        let mut d = canonical(
            ResourceKind::User,
            json!({"userName": "j", "emails": [{"primary": true, "type": "Work", "value": "j@Contoso.com"},
                {"type": "home", "value": "j@home"}]}),
        );
        ok(patch_user(
            &mut d,
            vec![
                replace("emails[type eq \"work\"].value", json!("new@microsoft.com")),
                replace("name.familyName", json!("updatedFamilyName")),
            ],
        ));
        assert_eq!(
            d["emails"],
            json!([{"primary": true, "type": "Work", "value": "new@microsoft.com"}, {"type": "home", "value": "j@home"}])
        );
        assert_eq!(d["name"], json!({"familyName": "updatedFamilyName"}));
    }

    #[test]
    fn entra_emails_work_value_created_when_missing() {
        // RFC 7644 §3.5.2.3 noTarget, except a `type eq` filter: Entra updates users without a work email.
        let mut d = canonical(ResourceKind::User, json!({"userName": "j"}));
        ok(patch_user(
            &mut d,
            vec![replace("emails[type eq \"work\"].value", json!("w@x"))],
        ));
        assert_eq!(d["emails"], json!([{"type": "work", "value": "w@x"}]));
        ok(patch_user(
            &mut d,
            vec![add("emails[type eq \"home\"].value", json!("h@x"))],
        ));
        assert_eq!(d["emails"][1], json!({"type": "home", "value": "h@x"}));
        ok(patch_user(
            &mut d,
            vec![replace(
                "phoneNumbers[type eq \"mobile\"]",
                json!({"value": "+1"}),
            )],
        ));
        assert_eq!(
            d["phoneNumbers"],
            json!([{"type": "mobile", "value": "+1"}])
        );
    }

    #[test]
    fn filter_without_match_is_no_target() {
        // RFC 7644 §3.5.2.3 (not a `type eq` filter)
        let mut d = bjensen();
        let before = d.clone();
        for path in [
            "emails[value eq \"nobody@x\"].type",
            "emails[type eq \"home\" and primary eq true].value",
            "emails[type sw \"ho\"]",
        ] {
            let r = patch_user(&mut d, vec![replace(path, json!("x"))]);
            assert_eq!(scim_type(&r), Some(ScimType::NoTarget), "{path}");
        }
        assert_eq!(d, before);
    }

    #[test]
    fn entra_manager_add_and_remove() {
        // ENTRA-MANAGER-STRING (value already {"value": id} after connectors; a bare string is tolerated too)
        let path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![add(path, json!({"value": "boss_01"}))],
        ));
        assert_eq!(d[ENT], json!({"manager": {"value": "boss_01"}}));
        assert_eq!(d["schemas"], json!([USER_SCHEMA, ENT]));
        ok(patch_user(&mut d, vec![add(path, json!("boss_02"))]));
        assert_eq!(d[ENT]["manager"], json!({"value": "boss_02"}));
        // A new referent replaces the stale object.
        ok(patch_user(
            &mut d,
            vec![replace(
                path,
                json!({"value": "boss_02", "$ref": "../Users/boss_02"}),
            )],
        ));
        ok(patch_user(
            &mut d,
            vec![replace(path, json!({"value": "boss_03"}))],
        ));
        assert_eq!(d[ENT]["manager"], json!({"value": "boss_03"}));
        ok(patch_user(
            &mut d,
            vec![replace(&format!("{path}.value"), json!("boss_04"))],
        ));
        assert_eq!(d[ENT]["manager"], json!({"value": "boss_04"}));
        let r = patch_user(
            &mut d,
            vec![replace(&format!("{path}.displayName"), json!("B"))],
        );
        assert_eq!(scim_type(&r), Some(ScimType::Mutability));
        ok(patch_user(
            &mut d,
            vec![op(
                OpKind::Remove,
                Some(path),
                Some(json!([{"value": "boss_04"}])),
            )],
        ));
        assert!(d.get(ENT).is_none());
        assert_eq!(d["schemas"], json!([USER_SCHEMA]));
        // Removing it again is a no-op; so is removing manager.value.
        ok(patch_user(
            &mut d,
            vec![remove(path), remove(&format!("{path}.value"))],
        ));
        ok(patch_user(
            &mut d,
            vec![
                add(path, json!({"value": "b"})),
                remove(&format!("{path}.value")),
            ],
        ));
        assert!(d.get(ENT).is_none());
    }

    #[test]
    fn entra_manager_legacy_unqualified_path() {
        // Older Entra doc sample: path "manager" with [{"$ref","value"}].
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![add(
                "manager",
                json!([{"$ref": "../Users/26118915", "value": "26118915"}]),
            )],
        ));
        assert_eq!(
            d[ENT]["manager"],
            json!({"$ref": "../Users/26118915", "value": "26118915"})
        );
        assert!(d.get("manager").is_none());
    }

    #[test]
    fn generic_trace_patch() {
        // generic_rfc7644.json: add home email + replace work email value + remove name.formatted
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![
                add(
                    "emails",
                    json!([{"value": "babs@jensen.org", "type": "home"}]),
                ),
                replace(
                    "emails[type eq \"work\"].value",
                    json!("barbara@example.com"),
                ),
                remove("name.formatted"),
            ],
        ));
        assert_eq!(
            d["emails"],
            json!([{"value": "barbara@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}])
        );
        assert_eq!(
            d["name"],
            json!({"familyName": "Jensen", "givenName": "Barbara"})
        );
        // Then `replace active false` (user2 step) and jumpcloud's name updates.
        ok(patch_user(
            &mut d,
            vec![
                replace("active", json!(false)),
                replace("name.givenName", json!("Janet")),
                replace("name.familyName", json!("Doe-Smith")),
            ],
        ));
        assert_eq!(d["active"], json!(false));
        assert_eq!(
            d["name"],
            json!({"familyName": "Doe-Smith", "givenName": "Janet"})
        );
    }

    #[test]
    fn core_urn_prefixed_paths() {
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![
                replace(
                    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                    json!("babs@x"),
                ),
                replace(
                    "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
                    json!("Babs"),
                ),
                replace(
                    "urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\"].value",
                    json!("w@x"),
                ),
                replace(
                    "urn:ietf:params:scim:schemas:core:2.0:User",
                    json!({"title": "Boss", "nickName": "B"}),
                ),
            ],
        ));
        assert_eq!(d["userName"], json!("babs@x"));
        assert_eq!(d["name"]["givenName"], json!("Babs"));
        assert_eq!(d["emails"][0]["value"], json!("w@x"));
        assert_eq!(
            (d["title"].clone(), d["nickName"].clone()),
            (json!("Boss"), json!("B"))
        );
        let r = patch_user(
            &mut d,
            vec![replace(
                "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
                json!("x"),
            )],
        );
        assert_eq!(scim_type(&r), Some(ScimType::InvalidPath));
        let r = patch_user(
            &mut d,
            vec![remove("urn:ietf:params:scim:schemas:core:2.0:User")],
        );
        assert_eq!(scim_type(&r), Some(ScimType::InvalidPath));
    }

    #[test]
    fn enterprise_paths_whole_object_and_attributes() {
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![
                add(ENT, json!({"department": "Sales", "manager": "m1"})),
                replace_np(json!({ENT: {"costCenter": "CC", "DEPARTMENT": "Ops"}})),
                replace(
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                    json!("701984"),
                ),
            ],
        ));
        assert_eq!(
            d[ENT],
            json!({"department": "Ops", "manager": {"value": "m1"}, "costCenter": "CC", "employeeNumber": "701984"})
        );
        ok(patch_user(
            &mut d,
            vec![remove(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            )],
        ));
        assert!(d[ENT].get("department").is_none());
        ok(patch_user(&mut d, vec![remove(ENT)]));
        assert!(d.get(ENT).is_none());
        assert_eq!(d["schemas"], json!([USER_SCHEMA]));
        let r = patch_user(&mut d, vec![replace(ENT, json!("x"))]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        let r = patch_user(
            &mut d,
            vec![replace(&format!("{ENT}:employeeNumber"), json!(5))],
        );
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        assert!(detail(&r).contains("employeeNumber"));
    }

    #[test]
    fn addresses_work_street_address() {
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![replace(
                "addresses[type eq \"work\"].streetAddress",
                json!("100 Universal City Plaza"),
            )],
        ));
        assert_eq!(
            d["addresses"],
            json!([{"type": "work", "streetAddress": "100 Universal City Plaza"}])
        );
        ok(patch_user(
            &mut d,
            vec![
                replace(
                    "addresses[type eq \"work\"].streetAddress",
                    json!("1 Main St"),
                ),
                add("addresses[type eq \"work\"].locality", json!("Hollywood")),
            ],
        ));
        assert_eq!(
            d["addresses"],
            json!([{"type": "work", "streetAddress": "1 Main St", "locality": "Hollywood"}])
        );
        ok(patch_user(
            &mut d,
            vec![remove("addresses[type eq \"work\"].locality")],
        ));
        assert_eq!(
            d["addresses"],
            json!([{"type": "work", "streetAddress": "1 Main St"}])
        );
        ok(patch_user(
            &mut d,
            vec![remove("addresses[type eq \"WORK\"]")],
        ));
        assert!(d.get("addresses").is_none());
    }

    #[test]
    fn unknown_extension_paths_stored_under_the_urn_object() {
        let ext = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![
                add(&format!("{ext}:costCode"), json!("C1")),
                replace(&format!("{ext}:badge.number"), json!(7)),
            ],
        ));
        assert_eq!(d[ext], json!({"costCode": "C1", "badge": {"number": 7}}));
        assert_eq!(d["schemas"], json!([USER_SCHEMA, ext]));
        ok(patch_user(
            &mut d,
            vec![replace_np(
                json!({format!("{ext}:costCode"): "C2", "urn:okta:app:1.0:user:custom": {"isAdmin": true}}),
            )],
        ));
        assert_eq!(d[ext]["costCode"], json!("C2"));
        assert_eq!(d["urn:okta:app:1.0:user:custom"], json!({"isAdmin": true}));
        ok(patch_user(&mut d, vec![add(ext, json!({"level": 2}))]));
        assert_eq!(
            d[ext],
            json!({"costCode": "C2", "badge": {"number": 7}, "level": 2})
        );
        ok(patch_user(
            &mut d,
            vec![
                remove(&format!("{ext}:costCode")),
                remove(&format!("{ext}:badge")),
            ],
        ));
        assert_eq!(d[ext], json!({"level": 2}));
        ok(patch_user(
            &mut d,
            vec![remove(ext), remove("urn:okta:app:1.0:user:custom")],
        ));
        assert!(d.get(ext).is_none() && d.get("urn:okta:app:1.0:user:custom").is_none());
        assert_eq!(d["schemas"], json!([USER_SCHEMA]));
    }

    #[test]
    fn attribute_names_are_case_insensitive() {
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![
                replace("USERNAME", json!("b@x")),
                replace("Name.GivenName", json!("B")),
                replace("EMAILS[TYPE eq \"WORK\"].VALUE", json!("w@x")),
                replace_np(json!({"DisplayName": "Babs", "NAME.FAMILYNAME": "J"})),
            ],
        ));
        assert_eq!(d["userName"], json!("b@x"));
        assert_eq!(d["name"]["givenName"], json!("B"));
        assert_eq!(d["name"]["familyName"], json!("J"));
        assert_eq!(d["emails"][0]["value"], json!("w@x"));
        assert_eq!(d["displayName"], json!("Babs"));
        assert!(d.keys().all(|k| k != "USERNAME" && k != "DisplayName"));
    }

    // ----- RFC 7644 §3.5.2 semantics ----------------------------------------------------------

    #[test]
    fn add_on_single_valued_is_replace() {
        // ENTRA-ADD-SINGLE-VALUED (rancher#55776): add externalId on a group
        let mut g = group_doc();
        ok(patch_group(
            &mut g,
            vec![add("externalId", json!("new-ext"))],
        ));
        assert_eq!(g["externalId"], json!("new-ext"));
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![add("title", json!("T1")), add("title", json!("T2"))],
        ));
        assert_eq!(d["title"], json!("T2"));
    }

    #[test]
    fn add_multi_valued_appends_skips_duplicates_and_moves_primary() {
        // RFC 7644 §3.5.2.1 and §3.5.2 ("primary")
        let mut d = bjensen();
        let home = json!({"value": "h@x", "type": "home"});
        ok(patch_user(
            &mut d,
            vec![
                add("emails", json!([home.clone()])),
                add("emails", home.clone()),
            ],
        ));
        assert_eq!(d["emails"].as_array().map(Vec::len), Some(2));
        ok(patch_user(
            &mut d,
            vec![add(
                "emails",
                json!({"value": "o@x", "type": "other", "primary": true}),
            )],
        ));
        assert_eq!(d["emails"][0]["primary"], json!(false));
        assert_eq!(d["emails"][2]["primary"], json!(true));
        ok(patch_user(
            &mut d,
            vec![replace("emails[type eq \"home\"].primary", json!("True"))],
        ));
        assert_eq!(d["emails"][1]["primary"], json!(true));
        assert_eq!(d["emails"][2]["primary"], json!(false));
        // Two primaries in one value: invalidValue.
        let r = patch_user(
            &mut d,
            vec![add(
                "phoneNumbers",
                json!([{"value": "1", "primary": true}, {"value": "2", "primary": true}]),
            )],
        );
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        // add with null/[] adds nothing
        ok(patch_user(
            &mut d,
            vec![add("roles", json!([])), add("roles", Value::Null)],
        ));
        assert!(d.get("roles").is_none());
    }

    #[test]
    fn replace_multi_valued_without_filter_replaces_all() {
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![replace("emails", json!([{"value": "only@x"}]))],
        ));
        assert_eq!(d["emails"], json!([{"value": "only@x"}]));
        ok(patch_user(&mut d, vec![replace("emails", json!([]))]));
        assert!(d.get("emails").is_none());
    }

    #[test]
    fn replace_complex_merges_sub_attributes() {
        // RFC 7644 §3.5.2.3: sub-attributes not specified are left unchanged
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![replace(
                "name",
                json!({"givenName": "Babs", "middleName": "J"}),
            )],
        ));
        assert_eq!(
            d["name"],
            json!({"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Babs", "middleName": "J"})
        );
        ok(patch_user(
            &mut d,
            vec![add("name", json!({"honorificSuffix": "III"}))],
        ));
        assert_eq!(d["name"]["honorificSuffix"], json!("III"));
    }

    #[test]
    fn replace_filtered_element_replaces_add_filtered_merges() {
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![replace(
                "emails[type eq \"work\"]",
                json!({"value": "r@x", "type": "work"}),
            )],
        ));
        assert_eq!(d["emails"], json!([{"value": "r@x", "type": "work"}]));
        ok(patch_user(
            &mut d,
            vec![add("emails[type eq \"work\"]", json!({"display": "R"}))],
        ));
        assert_eq!(
            d["emails"],
            json!([{"value": "r@x", "type": "work", "display": "R"}])
        );
        let r = patch_user(&mut d, vec![replace("emails[type eq \"work\"]", json!(5))]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        // A bare string is `{"value": …}` (ENTRA-MANAGER-STRING tolerance applies to all complex values).
        ok(patch_user(
            &mut d,
            vec![replace("emails[type eq \"work\"]", json!("s@x"))],
        ));
        assert_eq!(d["emails"], json!([{"value": "s@x"}]));
    }

    #[test]
    fn sub_attribute_of_multi_valued_without_filter() {
        let mut d = canonical(
            ResourceKind::User,
            json!({"userName": "u", "emails": [{"value": "a"}, {"value": "b"}]}),
        );
        ok(patch_user(
            &mut d,
            vec![replace("emails.type", json!("work"))],
        ));
        assert_eq!(
            d["emails"],
            json!([{"value": "a", "type": "work"}, {"value": "b", "type": "work"}])
        );
        ok(patch_user(&mut d, vec![remove("emails.type")]));
        assert_eq!(d["emails"], json!([{"value": "a"}, {"value": "b"}]));
        let mut d = canonical(ResourceKind::User, json!({"userName": "u"}));
        ok(patch_user(&mut d, vec![add("emails.value", json!("n@x"))]));
        assert_eq!(d["emails"], json!([{"value": "n@x"}]));
    }

    #[test]
    fn remove_semantics() {
        // RFC 7644 §3.5.2.2
        let mut d = canonical(
            ResourceKind::User,
            json!({"userName": "u", "title": "T", "emails": [{"value": "w@x", "type": "work"},
                {"value": "h@x", "type": "home"}, {"value": "o@x", "type": "other"}]}),
        );
        ok(patch_user(
            &mut d,
            vec![remove("emails[type eq \"home\"]"), remove("title")],
        ));
        assert_eq!(
            d["emails"],
            json!([{"value": "w@x", "type": "work"}, {"value": "o@x", "type": "other"}])
        );
        assert!(d.get("title").is_none());
        // Absent targets: no-op.
        let before = d.clone();
        ok(patch_user(
            &mut d,
            vec![
                remove("title"),
                remove("nickName"),
                remove("emails[type eq \"home\"]"),
                remove("name.givenName"),
                remove("x509Certificates[value eq \"x\"].display"),
                remove("urn:acme:nothing:1.0:User:foo"),
                remove(ENT),
                remove("password"),
            ],
        ));
        assert_eq!(d, before);
        // Remove with a value list (tolerance mirroring ENTRA-REMOVE-MEMBERS-VALUE).
        ok(patch_user(
            &mut d,
            vec![remove_v("emails", json!([{"value": "W@X"}]))],
        ));
        assert_eq!(d["emails"], json!([{"value": "o@x", "type": "other"}]));
        ok(patch_user(
            &mut d,
            vec![remove("emails[type eq \"other\"].value")],
        ));
        assert_eq!(d["emails"], json!([{"type": "other"}]));
        ok(patch_user(&mut d, vec![remove("emails")]));
        assert!(d.get("emails").is_none());
    }

    #[test]
    fn remove_requires_a_path() {
        // RFC 7644 §3.5.2.2: noTarget
        let mut d = bjensen();
        for o in [
            op(OpKind::Remove, None, None),
            op(OpKind::Remove, Some("  "), Some(json!({"title": 1}))),
        ] {
            let r = patch_user(&mut d, vec![o]);
            assert_eq!(scim_type(&r), Some(ScimType::NoTarget));
        }
    }

    #[test]
    fn null_value_unassigns() {
        // RFC 7643 §2.5
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![
                replace("externalId", Value::Null),
                replace("name.formatted", Value::Null),
            ],
        ));
        assert!(d.get("externalId").is_none());
        assert!(d["name"].get("formatted").is_none());
        let r = patch_user(&mut d, vec![replace("userName", Value::Null)]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
    }

    #[test]
    fn read_only_targets_are_mutability_errors() {
        let mut d = bjensen();
        for o in [
            replace("id", json!("x")),
            replace("meta", json!({"version": "1"})),
            replace("meta.created", json!("2020-01-01T00:00:00Z")),
            add("groups", json!([{"value": "g"}])),
            remove("groups"),
            remove("groups[value eq \"g\"]"),
            remove("id"),
            replace("urn:ietf:params:scim:schemas:core:2.0:User:id", json!("x")),
        ] {
            let r = patch_user(&mut d, vec![o]);
            assert_eq!(scim_type(&r), Some(ScimType::Mutability), "{r:?}");
        }
        let mut g = group_doc();
        let r = patch_group(&mut g, vec![replace("id", json!(GID))]);
        assert_eq!(scim_type(&r), Some(ScimType::Mutability));
        // Path-less: readOnly keys ignored like in a PUT (OKTA-CREATE-PASSWORD-GROUPS), meta/schemas too.
        ok(patch_user(
            &mut d,
            vec![replace_np(
                json!({"groups": [], "meta": {"x": 1}, "schemas": ["x"], "id": UID, "title": "T"}),
            )],
        ));
        assert_eq!(d["title"], json!("T"));
        assert!(d.get("groups").is_none() && d.get("meta").is_none() && d.get("id").is_none());
    }

    #[test]
    fn password_is_never_stored() {
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![
                replace_np(json!({"password": "s3cret"})),
                replace("password", json!("x")),
                remove("password"),
            ],
        ));
        assert!(d.get("password").is_none());
    }

    #[test]
    fn required_attributes_cannot_be_removed() {
        let mut d = bjensen();
        for o in [
            remove("userName"),
            remove("USERNAME"),
            replace("userName", json!("")),
            replace_np(json!({"userName": " "})),
        ] {
            let r = patch_user(&mut d, vec![o]);
            assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{r:?}");
            assert!(detail(&r).contains("userName"));
        }
        let mut g = group_doc();
        let r = patch_group(&mut g, vec![remove("displayName")]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        assert!(detail(&r).contains("displayName"));
    }

    #[test]
    fn invalid_paths() {
        let mut d = bjensen();
        for path in [
            "emails[",
            "a.b.c",
            "emails[type eq \"work\"].value.x",
            "emails[type eq \"work\"][value eq \"x\"]",
            "userName.foo",
            "name[givenName eq \"x\"]",
            "active[value eq true]",
            "1abc",
            "$ref",
            "emails.value[type eq \"work\"]",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
        ] {
            let r = patch_user(&mut d, vec![replace(path, json!("x"))]);
            assert_eq!(scim_type(&r), Some(ScimType::InvalidPath), "{path}: {r:?}");
            assert!(detail(&r).contains(path), "{path}: {}", detail(&r));
        }
    }

    #[test]
    fn type_errors_are_invalid_value() {
        let mut d = bjensen();
        for (o, attr) in [
            (replace("userName", json!(42)), "userName"),
            (
                replace("emails[type eq \"work\"].value", json!(5)),
                "emails",
            ),
            (replace("name", json!("x")), "name"),
            (add("name.givenName", json!(true)), "name.givenName"),
            (add("emails", json!([1])), "emails[0]"),
            (replace("displayName", json!({"a": 1})), "displayName"),
            (replace("title", json!("a\u{0}b")), "title"),
            (replace_np(json!({"custom": {"x": "\u{0}"}})), "custom"),
            (
                replace("emails[type eq \"work\"].primary", json!("yes")),
                "primary",
            ),
            (
                replace("addresses[type eq \"home\"].postalCode", json!(12345)),
                "postalCode",
            ),
        ] {
            let r = patch_user(&mut d, vec![o]);
            assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{attr}: {r:?}");
            assert!(detail(&r).contains(attr), "{attr}: {}", detail(&r));
        }
    }

    #[test]
    fn add_and_replace_need_values() {
        let mut d = bjensen();
        for o in [
            op(OpKind::Add, Some("title"), None),
            op(OpKind::Replace, None, None),
            replace_np(json!("x")),
            add_np(json!([{"title": "x"}])),
        ] {
            let r = patch_user(&mut d, vec![o]);
            assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{r:?}");
        }
    }

    #[test]
    fn atomic_on_error_and_detail_names_the_operation() {
        let mut d = bjensen();
        let before = d.clone();
        let r = patch_user(
            &mut d,
            vec![
                replace("title", json!("T")),
                replace("active", json!("nope")),
            ],
        );
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        assert!(detail(&r).starts_with("Operations[1]: "), "{}", detail(&r));
        assert_eq!(d, before);
    }

    #[test]
    fn unknown_attributes_kept_verbatim() {
        let mut d = bjensen();
        ok(patch_user(
            &mut d,
            vec![
                add("customTag", json!(["a"])),
                add("customTag", json!(["a", "b"])),
                add_np(json!({"weird key": 1})),
                replace("customObj.inner", json!(3)),
            ],
        ));
        assert_eq!(d["customTag"], json!(["a", "b"]));
        assert_eq!(d["weird key"], json!(1));
        assert_eq!(d["customObj"], json!({"inner": 3}));
        ok(patch_user(
            &mut d,
            vec![remove("customTag[value eq \"a\"]"), remove("customObj")],
        ));
        assert_eq!(d["customTag"], json!(["b"]));
        assert!(d.get("customObj").is_none());
    }

    // ----- groups -----------------------------------------------------------------------------

    #[test]
    fn okta_group_rename_with_id() {
        // OKTA-GROUP-RENAME-ID; NOPATH-REPLACE-MEMBERS-WIPE: no members key -> no member ops
        let mut g = group_doc();
        let out = ok(patch_group(
            &mut g,
            vec![replace_np(
                json!({"id": GID, "displayName": "Test SCIMv20"}),
            )],
        ));
        assert!(out.member_ops.is_empty());
        assert_eq!(g["displayName"], json!("Test SCIMv20"));
        assert!(g.get("id").is_none());
        let r = patch_group(
            &mut g,
            vec![replace_np(json!({"id": "other", "displayName": "x"}))],
        );
        assert_eq!(scim_type(&r), Some(ScimType::Mutability));
        assert_eq!(g["displayName"], json!("Test SCIMv20"));
        // OneLogin-style id: null is ignored.
        ok(patch_group(
            &mut g,
            vec![replace_np(json!({"id": null, "displayName": "y"}))],
        ));
        assert_eq!(g["displayName"], json!("y"));
    }

    #[test]
    fn entra_add_members_with_null_ref() {
        // ENTRA-REF-NULL (entra_lifecycle.json)
        let mut g = group_doc();
        let before = g.clone();
        let out = ok(patch_group(
            &mut g,
            vec![add(
                "members",
                json!([{"$ref": null, "value": "u1"}, {"$ref": null, "value": "u2"}]),
            )],
        ));
        assert_eq!(
            out.member_ops,
            vec![MemberOp::Add(vec![mref("u1"), mref("u2")])]
        );
        assert_eq!(g, before, "members never touch the document");
    }

    #[test]
    fn okta_membership_push_order_kept() {
        // okta_lifecycle.json MEMBERS-FILTER-REMOVE step: remove by filter then add, in order
        let mut g = group_doc();
        let out = ok(patch_group(
            &mut g,
            vec![
                remove("members[value eq \"u1\"]"),
                add(
                    "members",
                    json!([{"value": "u2", "display": "second.user@okta.local"}]),
                ),
            ],
        ));
        assert_eq!(
            out.member_ops,
            vec![
                MemberOp::Remove(ids(&["u1"])),
                MemberOp::Add(vec![MemberRef {
                    value: "u2".into(),
                    display: Some("second.user@okta.local".into()),
                    kind: None
                }]),
            ]
        );
    }

    #[test]
    fn members_filter_remove_with_or() {
        // MEMBERS-FILTER-REMOVE
        let mut g = group_doc();
        let out = ok(patch_group(
            &mut g,
            vec![
                remove("members[value eq \"a\" or value eq \"b\" or VALUE eq \"a\"]"),
                remove("urn:ietf:params:scim:schemas:core:2.0:Group:members[value eq \"c\"]"),
            ],
        ));
        assert_eq!(
            out.member_ops,
            vec![
                MemberOp::Remove(ids(&["a", "b"])),
                MemberOp::Remove(ids(&["c"]))
            ]
        );
    }

    #[test]
    fn entra_remove_members_with_value_list() {
        // ENTRA-REMOVE-MEMBERS-VALUE (entra_lifecycle.json, jumpcloud_lifecycle.json)
        let mut g = group_doc();
        let out = ok(patch_group(
            &mut g,
            vec![
                remove_v("members", json!([{"$ref": null, "value": "u1"}])),
                remove_v("members", json!([{"value": "u2"}, {"value": "u3"}])),
                remove_v("members", json!({"value": "u4"})),
            ],
        ));
        assert_eq!(
            out.member_ops,
            vec![
                MemberOp::Remove(ids(&["u1"])),
                MemberOp::Remove(ids(&["u2", "u3"])),
                MemberOp::Remove(ids(&["u4"])),
            ]
        );
    }

    #[test]
    fn remove_members_without_value_removes_all() {
        // RFC 7644 §3.5.2.2
        let mut g = group_doc();
        let out = ok(patch_group(
            &mut g,
            vec![remove("members"), remove_v("MEMBERS", Value::Null)],
        ));
        assert_eq!(
            out.member_ops,
            vec![MemberOp::RemoveAll, MemberOp::RemoveAll]
        );
    }

    #[test]
    fn replace_members_and_pathless_members() {
        let mut g = group_doc();
        let out = ok(patch_group(
            &mut g,
            vec![
                replace(
                    "members",
                    json!([{"value": "u1", "display": "a"}, {"value": "u2", "type": "user"}]),
                ),
                replace("members", json!([])),
                add_np(json!({"members": [{"value": "u3"}]})),
                replace_np(json!({"displayName": "Renamed", "members": [{"value": "u4"}]})),
                replace("members", Value::Null),
            ],
        ));
        assert_eq!(
            out.member_ops,
            vec![
                MemberOp::Replace(vec![
                    MemberRef {
                        value: "u1".into(),
                        display: Some("a".into()),
                        kind: None
                    },
                    MemberRef {
                        value: "u2".into(),
                        display: None,
                        kind: Some("User".into())
                    },
                ]),
                MemberOp::Replace(vec![]),
                MemberOp::Add(vec![mref("u3")]),
                MemberOp::Replace(vec![mref("u4")]),
            ]
        );
        assert_eq!(g["displayName"], json!("Renamed"));
        assert!(g.get("members").is_none());
    }

    #[test]
    fn nopath_replace_without_members_keeps_membership() {
        // NOPATH-REPLACE-MEMBERS-WIPE (langwatch#7131)
        let mut g = group_doc();
        let out = ok(patch_group(
            &mut g,
            vec![replace_np(json!({"displayName": "x"}))],
        ));
        assert!(out.member_ops.is_empty());
    }

    #[test]
    fn idempotent_membership_ops() {
        // IDEMPOTENT-MEMBERSHIP: the same request twice yields the same ops; duplicates inside one list
        // are collapsed; removing a non-member is a plain Remove (the store makes it a no-op).
        let mut g = group_doc();
        let ops = || {
            vec![
                add("members", json!([{"value": "u1"}, {"value": "u1"}])),
                remove("members[value eq \"zz\"]"),
            ]
        };
        let first = ok(patch_group(&mut g, ops()));
        let second = ok(patch_group(&mut g, ops()));
        assert_eq!(first, second);
        assert_eq!(
            first.member_ops,
            vec![
                MemberOp::Add(vec![mref("u1")]),
                MemberOp::Remove(ids(&["zz"]))
            ]
        );
    }

    #[test]
    fn unsupported_member_filters_are_invalid_filter() {
        let mut g = group_doc();
        for path in [
            "members[display eq \"x\"]",
            "members[value ne \"x\"]",
            "members[value co \"x\"]",
            "members[value eq \"a\" and type eq \"User\"]",
            "members[not (value eq \"a\")]",
            "members[value pr]",
            "members[value eq 5]",
        ] {
            let r = patch_group(&mut g, vec![remove(path)]);
            assert_eq!(
                scim_type(&r),
                Some(ScimType::InvalidFilter),
                "{path}: {r:?}"
            );
            assert!(detail(&r).contains("members"), "{}", detail(&r));
        }
    }

    #[test]
    fn member_values_must_be_non_empty_strings() {
        let mut g = group_doc();
        for o in [
            add("members", json!([{"value": ""}])),
            add("members", json!([{"value": 12}])),
            add("members", json!([{"display": "x"}])),
            replace("members", json!([{"value": null}])),
            remove_v("members", json!([{"value": " "}])),
            remove("members[value eq \"\"]"),
            add_np(json!({"members": [{"value": false}]})),
            add("members", json!([{"value": "u", "type": "Robot"}])),
        ] {
            let r = patch_group(&mut g, vec![o]);
            assert_eq!(scim_type(&r), Some(ScimType::InvalidValue), "{r:?}");
        }
    }

    #[test]
    fn member_paths_with_filters_or_sub_attributes() {
        let mut g = group_doc();
        for o in [
            add("members[value eq \"x\"]", json!([{"value": "x"}])),
            replace("members[value eq \"x\"].display", json!("d")),
            replace("members.display", json!("d")),
            remove("members.value"),
            remove("members[value eq \"x\"].display"),
        ] {
            let r = patch_group(&mut g, vec![o]);
            assert_eq!(scim_type(&r), Some(ScimType::InvalidPath), "{r:?}");
        }
    }

    #[test]
    fn group_displayname_ops() {
        // entra/jumpcloud rename
        let mut g = group_doc();
        ok(patch_group(
            &mut g,
            vec![replace("displayName", json!("updatedDisplayName"))],
        ));
        assert_eq!(g["displayName"], json!("updatedDisplayName"));
        let r = patch_group(&mut g, vec![replace("displayName", json!(7))]);
        assert_eq!(scim_type(&r), Some(ScimType::InvalidValue));
        // The User schemas do not apply to Groups.
        for path in [
            format!("{ENT}:department"),
            "urn:ietf:params:scim:schemas:core:2.0:User:userName".to_string(),
        ] {
            let r = patch_group(&mut g, vec![add(&path, json!("x"))]);
            assert_eq!(scim_type(&r), Some(ScimType::InvalidPath), "{path}");
        }
    }

    // ----- matches ------------------------------------------------------------------------------

    fn parse_filter(path: &str) -> ValFilter {
        match path.parse::<PatchPath>() {
            Ok(PatchPath::Value(vp)) => vp.filter,
            other => panic!("not a value path: {other:?}"),
        }
    }

    fn m(filter: &str, elem: Value) -> bool {
        let f = parse_filter(&format!("x[{filter}]"));
        matches(&f, &elem, |n: &str| n == "exact")
    }

    #[test]
    fn matches_rfc7644_s3_4_2_2_operators() {
        let e = json!({"type": "Work", "value": "Bjensen@Example.com", "primary": "True", "n": 5,
            "exact": "AbC", "when": "2024-01-02T00:00:00Z", "tags": ["a", "b"], "empty": ""});
        assert!(m("type eq \"work\"", e.clone()));
        assert!(m("TYPE eq \"WORK\"", e.clone()));
        assert!(!m("exact eq \"abc\"", e.clone()));
        assert!(m("exact eq \"AbC\"", e.clone()));
        assert!(m("value co \"example\"", e.clone()));
        assert!(m("value sw \"bjensen\"", e.clone()));
        assert!(m("value ew \".COM\"", e.clone()));
        assert!(m("value ne \"x\"", e.clone()));
        assert!(m("primary eq true", e.clone()));
        assert!(!m("primary eq false", e.clone()));
        assert!(m("n gt 4 and n le 5", e.clone()));
        assert!(!m("n lt 5", e.clone()));
        assert!(m("when gt \"2023-12-31T23:00:00-05:00\"", e.clone()));
        assert!(!m("when lt \"2024-01-01T18:00:00-05:00\"", e.clone()));
        assert!(m("when lt \"2024-01-01T23:00:00-05:00\"", e.clone()));
        assert!(m("type pr", e.clone()));
        assert!(!m("empty pr", e.clone()));
        assert!(!m("missing pr", e.clone()));
        assert!(m("missing eq null", e.clone()));
        assert!(m("missing ne \"x\"", e.clone()));
        assert!(!m("missing eq \"x\"", e.clone()));
        assert!(m("type eq null or n eq 5", e.clone()));
        assert!(m("not (type eq \"home\")", e.clone()));
        assert!(m("tags eq \"b\"", e.clone()));
        assert!(!m("type eq 5", e.clone()));
        // simple multi-valued element: `value` is the element itself
        assert!(m("value eq \"A\"", json!("a")));
        assert!(!m("type eq \"a\"", json!("a")));
    }

    // ----- robustness ---------------------------------------------------------------------------

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

    #[test]
    fn plain_path_fast_path_agrees_with_the_parser() {
        for p in [
            "userName",
            "name.givenName",
            "a-b_c",
            "x1.y2",
            "NAME.GIVENNAME",
        ] {
            assert_eq!(plain_attr_path(p), p.parse::<PatchPath>().ok(), "{p}");
        }
        for p in [
            "a.b.c",
            "1a",
            "$ref",
            "a.",
            ".a",
            "a:b",
            "a[b eq 1]",
            "",
            "ü",
        ] {
            assert_eq!(plain_attr_path(p), None, "{p}");
        }
    }
}
