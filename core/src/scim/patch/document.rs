//! Where a value lives in the stored document (top level, or the object under an extension URN) and
//! how PATCH values are merged into it: case-insensitive keys, multi-valued arrays without exact
//! duplicates, one `primary` value.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::path::Loc;
use crate::error::{CoreError, CoreResult};
use crate::scim::schema::{
    fingerprint, get_ci, is_primary, key_ci, set_ci, AttrDef, ENTERPRISE_USER_SCHEMA,
};

pub(super) fn put_or_remove(m: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    match value {
        Some(v) => set_ci(m, name, v),
        None => remove_ci(m, name),
    }
}

pub(super) fn remove_ci(m: &mut Map<String, Value>, name: &str) {
    if let Some(k) = key_ci(m, name) {
        m.shift_remove(&k);
    }
}

/// Merge a checked complex value into the stored one. When the referent changes (`value` differs, e.g. a new
/// manager id) the old object describes someone else and is replaced instead.
pub(super) fn merge_complex(
    container: &mut Map<String, Value>,
    def: &AttrDef,
    new: Map<String, Value>,
) {
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
pub(super) fn settle_primary(items: &mut [Value], touched: &[usize]) {
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

pub(super) fn container_create<'a>(
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

pub(super) fn container_get<'a>(
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

pub(super) fn remove_container(doc: &mut Map<String, Value>, loc: &Loc) {
    match loc {
        Loc::Core => {}
        Loc::Enterprise => remove_ci(doc, ENTERPRISE_USER_SCHEMA),
        Loc::Ext(k) => remove_ci(doc, k),
    }
}

/// The array stored in `slot` (a stray single value is wrapped, null becomes empty).
pub(super) fn array_slot(slot: &mut Value) -> CoreResult<&mut Vec<Value>> {
    if !slot.is_array() {
        let old = std::mem::take(slot);
        *slot = Value::Array(if old.is_null() { Vec::new() } else { vec![old] });
    }
    slot.as_array_mut()
        .ok_or_else(|| CoreError::internal("multi-valued slot is not an array"))
}

/// Append the values not already present (exact duplicates skipped, hash-based so large lists stay
/// linear); returns the indices of the appended values.
pub(super) fn append_new(arr: &mut Vec<Value>, new: Vec<Value>) -> Vec<usize> {
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
pub(super) struct GivenValues {
    whole: HashSet<String>,
    values: HashSet<String>,
    case_exact: bool,
}

impl GivenValues {
    pub(super) fn new(v: &Value, case_exact: bool) -> Self {
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

    pub(super) fn contains(&self, elem: &Value) -> bool {
        self.whole.contains(&fingerprint(elem))
            || self
                .value_of(elem)
                .is_some_and(|s| self.values.contains(&s))
    }
}
