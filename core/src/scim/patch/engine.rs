//! The PATCH operations on the stored document (RFC 7644 §3.5.2.1 add, §3.5.2.2 remove, §3.5.2.3
//! replace), one operation at a time on a working copy that `apply_patch` keeps only when all of them
//! succeeded.

use scim_v2::filter::{AttrExp, CompValue, CompareOp, ValFilter};
use scimgate_connectors::{OpKind, PatchOp};
use serde_json::{Map, Value};

use super::document::{
    append_new, array_slot, container_create, container_get, merge_complex, put_or_remove,
    remove_ci, remove_container, settle_primary, GivenValues,
};
use super::path::{AttrTarget, Loc, Target};
use super::value_filter::matches;
use super::MemberOp;
use crate::error::{CoreError, CoreResult};
use crate::scim::schema::{
    check_attr_value, check_element, find_attr, json_type, key_ci, no_nul, no_nul_str, set_ci,
    wrong_type, AttrType, Kind, Mutability, ENTERPRISE_USER_SCHEMA,
};

/// The new content for the matched elements of a value-filtered operation.
enum NewContent {
    Sub(Option<Value>),
    Elem(Map<String, Value>),
}

pub(super) struct Ctx<'a> {
    pub(super) kind: Kind,
    pub(super) id: &'a str,
    pub(super) doc: &'a mut Map<String, Value>,
    pub(super) member_ops: &'a mut Vec<MemberOp>,
}

impl Ctx<'_> {
    pub(super) fn apply(&mut self, op: &PatchOp) -> CoreResult<()> {
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
    pub(super) fn pathless(&mut self, is_add: bool, obj: Map<String, Value>) -> CoreResult<()> {
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

    fn set(
        &mut self,
        target: Target,
        is_add: bool,
        value: Value,
        pathless: bool,
    ) -> CoreResult<()> {
        match target {
            Target::Members { filter, sub } => self.set_members(filter, sub, is_add, value),
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
            // Unknown attribute: verbatim (tolerance, ../shared/docs/PRODUCT.md).
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
            Target::Members { filter, sub } => self.remove_members(filter, sub, value),
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
