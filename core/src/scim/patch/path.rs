//! What a PATCH path (RFC 7644 §3.5.2, `PATCH-PATH` of §3.10) or a key of a path-less value targets:
//! a core, enterprise or extension attribute with its definition, an optional value filter and
//! sub-attribute, a whole extension object, or a group's `members`.

use scim_v2::filter::{AttrPath, PatchPath, PatchValuePath, ValFilter};
use serde_json::Value;

use super::engine::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::scim::schema::{
    core_attr, find_attr, key_ci, AttrDef, AttrType, Kind, ENTERPRISE_USER, ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA, USER_SCHEMA,
};

/// Where an attribute lives in the document.
#[derive(Debug, Clone)]
pub(super) enum Loc {
    /// Top level (core schema and common attributes).
    Core,
    /// The object under the enterprise URN key.
    Enterprise,
    /// The object under an unknown extension URN key (as sent).
    Ext(String),
}

#[derive(Debug)]
pub(super) enum Target {
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
pub(super) struct AttrTarget {
    pub(super) loc: Loc,
    /// Canonical name when known, else as sent.
    pub(super) name: String,
    pub(super) def: Option<&'static AttrDef>,
    pub(super) filter: Option<ValFilter>,
    pub(super) sub: Option<String>,
    pub(super) sub_def: Option<&'static AttrDef>,
    /// The path as sent, for error details.
    pub(super) path: String,
}

impl AttrTarget {
    pub(super) fn unknown(loc: Loc, name: &str) -> Self {
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

    pub(super) fn case_exact(&self) -> impl Fn(&str) -> bool + 'static {
        let def = self.def;
        move |name: &str| {
            def.and_then(|d| find_attr(d.sub_attributes, name))
                .is_some_and(|s| s.case_exact)
        }
    }
}

impl Ctx<'_> {
    /// Resolve a path (or a path-less key when `lenient`) into a target.
    pub(super) fn resolve(
        &self,
        path: &str,
        value_is_object: bool,
        lenient: bool,
    ) -> CoreResult<Target> {
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
                // Unknown extension (kept, ../shared/docs/PRODUCT.md). `urn:x:2.0:User` parses as
                // uri `urn:x:2.0` + name `User`: that, or an object value for a URN not yet stored,
                // is the whole extension object.
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
}

/// Fast path for the common `attr` / `attr.sub` paths (what the parser would return for them).
pub(super) fn plain_attr_path(p: &str) -> Option<PatchPath> {
    crate::scim::filter::plain_attr(p).map(PatchPath::Attr)
}

#[cfg(test)]
mod tests {
    use super::*;

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
