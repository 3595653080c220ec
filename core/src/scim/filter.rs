//! SCIM filters (RFC 7644 §3.4.2.2) to parameterized SQL over indexed columns.
//!
//! Parsing is `scim_v2`'s grammar (operators and attribute names case-insensitive,
//! URN-qualified names, value paths, and/or/not, parentheses). This module decides
//! which attributes can be filtered and how: real columns for `id`, `userName`,
//! `externalId`, `active`, `meta.*` (users) and `displayName` (groups), the
//! `user_attrs` index for every other attribute, and `memberships` for `groups` /
//! `members`. Anything else is `400 invalidFilter`. No value ever enters SQL text.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, ValFilter};
use scimgate_connectors::ResourceKind;

use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::scim::index;
use crate::scim::schema::{self, AttrType, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use crate::store::dynsql::{like_escape, Bind, Sql};
use crate::store::Dialect;

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Most comparisons accepted in one filter.
pub const MAX_FILTER_TERMS: usize = 50;

/// Parse a filter string, tolerating Entra's `emails[type eq "work"].value eq "x"`
/// (IDP-QUIRKS ENTRA-FILTER-EXTERNALID), which the RFC grammar lacks.
pub fn parse(raw: &str) -> CoreResult<Filter> {
    if raw.len() > MAX_FILTER_LEN {
        return Err(CoreError::invalid_filter(format!(
            "filter is longer than {MAX_FILTER_LEN} characters"
        )));
    }
    if raw.contains('\0') {
        return Err(CoreError::invalid_filter("filter contains a NUL character"));
    }
    let text = rewrite_value_path_sub_attr(raw);
    let f = match simple_eq(&text) {
        Some(f) => f,
        None => text
            .parse::<Filter>()
            .map_err(|e| CoreError::invalid_filter(format!("invalid filter {raw:?}: {e}")))?,
    };
    let mut all = Vec::new();
    terms(&f, &mut all);
    if all.len() > MAX_FILTER_TERMS {
        return Err(CoreError::invalid_filter(format!(
            "filter has {} comparisons; at most {MAX_FILTER_TERMS} are allowed",
            all.len()
        )));
    }
    // a `\u0000` escape decodes to NUL, which no stored value holds (and PostgreSQL
    // cannot compare)
    if all
        .iter()
        .any(|t| matches!(t, AttrExp::Comparison(_, _, CompValue::Str(v)) if v.contains('\0')))
    {
        return Err(CoreError::invalid_filter("filter contains a NUL character"));
    }
    Ok(f)
}

/// A plain `attr` or `attr.sub` path (ATTRNAME of RFC 7644 §3.10: an ASCII letter, then
/// letters, digits, `_` and `-`), as `scim_v2`'s parser would return it; `None` for
/// anything else (URN prefixes, value paths), which is left to the parser.
pub(crate) fn plain_attr(p: &str) -> Option<AttrPath> {
    fn attr_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }
    let (name, sub) = match p.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (p, None),
    };
    if !attr_name(name) || sub.is_some_and(|s| !attr_name(s)) {
        return None;
    }
    Some(match sub {
        Some(s) => AttrPath::with_sub_attr(name, s),
        None => AttrPath::with_name(name),
    })
}

/// Fast path for the filter every IdP sends before a create, `attr eq "string"` (plain
/// path, single spaces or more, any case of `eq`): the filter `scim_v2` would parse from
/// it, without its lexer, whose per-call automaton cache cost more than the rest of a
/// lookup request. Anything else, or anything doubtful, returns `None` and goes to the
/// parser (`simple_eq_agrees_with_the_parser` checks the two agree).
fn simple_eq(text: &str) -> Option<Filter> {
    let (path, rest) = text.split_once(' ')?;
    let path = plain_attr(path)?;
    let rest = rest.trim_start_matches(' ');
    let (op, rest) = rest.split_at_checked(2)?;
    if !op.eq_ignore_ascii_case("eq") || !rest.starts_with(' ') {
        return None;
    }
    let lit = rest.trim_start_matches(' ');
    // a JSON string literal that ends the filter: `"([^"\\]|\\.)*"`
    let mut chars = lit.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    loop {
        match chars.next()? {
            (i, '"') => {
                if i + 1 != lit.len() {
                    return None;
                }
                break;
            }
            (_, '\\') => {
                // `\\.`: any character but a line break is escaped
                let escaped = chars.next()?.1;
                if escaped == '\n' {
                    return None;
                }
            }
            _ => {}
        }
    }
    let value: String = serde_json::from_str(lit).ok()?;
    Some(Filter::Attr(AttrExp::Comparison(
        path,
        CompareOp::Eq,
        CompValue::Str(value),
    )))
}

/// Whether a filter is a lookup by one key an IdP looks users up by (`userName`,
/// `externalId` or `id` `eq "…"`): a read of at most a few rows.
pub fn is_point_lookup(raw: &str) -> bool {
    match simple_eq(raw.trim()) {
        Some(Filter::Attr(AttrExp::Comparison(p, _, _))) => {
            p.sub_attr.is_none()
                && ["userName", "externalId", "id"]
                    .iter()
                    .any(|k| p.name.eq_ignore_ascii_case(k))
        }
        _ => false,
    }
}

/// The comparisons of a filter, value-path filters included.
fn terms<'a>(f: &'a Filter, out: &mut Vec<&'a AttrExp>) {
    match f {
        Filter::Attr(a) => out.push(a),
        Filter::ValuePath(vp) => val_terms(&vp.filter, out),
        Filter::Not(inner) => terms(inner, out),
        Filter::And(items) | Filter::Or(items) => items.iter().for_each(|i| terms(i, out)),
    }
}

fn val_terms<'a>(f: &'a ValFilter, out: &mut Vec<&'a AttrExp>) {
    match f {
        ValFilter::Attr(a) => out.push(a),
        ValFilter::Not(inner) => val_terms(inner, out),
        ValFilter::And(items) | ValFilter::Or(items) => {
            items.iter().for_each(|i| val_terms(i, out))
        }
    }
}

const OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"];

/// `attr[F].sub op v` → `attr[(F) and sub op v]`; anything else is returned unchanged.
fn rewrite_value_path_sub_attr(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    let mut in_str = false;
    let mut bracket_start: Option<usize> = None; // index in `out` just after '['
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            out.push(c);
            if c == '\\' && i + 1 < chars.len() {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if c == '"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
                i += 1;
            }
            '[' => {
                out.push(c);
                bracket_start = Some(out.len());
                i += 1;
            }
            ']' if i + 1 < chars.len() && chars[i + 1] == '.' => {
                // try to read `.sub <ws> op [<ws> value]`
                let mut j = i + 2;
                let sub_start = j;
                while j < chars.len()
                    && (chars[j].is_ascii_alphanumeric() || chars[j] == '_' || chars[j] == '-')
                {
                    j += 1;
                }
                let sub: String = chars[sub_start..j].iter().collect();
                let ws1 = j;
                while j < chars.len() && chars[j] == ' ' {
                    j += 1;
                }
                let op_start = j;
                while j < chars.len() && chars[j].is_ascii_alphabetic() {
                    j += 1;
                }
                let op: String = chars[op_start..j].iter().collect();
                let ok_op = OPS.contains(&op.to_ascii_lowercase().as_str());
                if sub.is_empty() || ws1 == op_start || !ok_op || bracket_start.is_none() {
                    out.push(c);
                    i += 1;
                    continue;
                }
                let mut value = String::new();
                if !op.eq_ignore_ascii_case("pr") {
                    while j < chars.len() && chars[j] == ' ' {
                        j += 1;
                    }
                    if j < chars.len() && chars[j] == '"' {
                        value.push('"');
                        j += 1;
                        while j < chars.len() {
                            value.push(chars[j]);
                            if chars[j] == '\\' && j + 1 < chars.len() {
                                value.push(chars[j + 1]);
                                j += 2;
                                continue;
                            }
                            j += 1;
                            if value.len() > 1 && value.ends_with('"') {
                                break;
                            }
                        }
                    } else {
                        while j < chars.len() && !matches!(chars[j], ' ' | ')' | ']') {
                            value.push(chars[j]);
                            j += 1;
                        }
                    }
                    if value.is_empty() {
                        out.push(c);
                        i += 1;
                        continue;
                    }
                }
                let start = bracket_start.take().unwrap_or(out.len());
                let inner: String = out[start..].to_string();
                out.truncate(start);
                out.push('(');
                out.push_str(&inner);
                out.push_str(") and ");
                out.push_str(&sub);
                out.push(' ');
                out.push_str(&op);
                if !value.is_empty() {
                    out.push(' ');
                    out.push_str(&value);
                }
                out.push(']');
                i = j;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// How an attribute is stored.
#[derive(Debug, Clone)]
enum Target {
    /// A text column; `ci` = stored lower-cased (caseExact false).
    Text {
        col: &'static str,
        ci: bool,
    },
    Bool {
        col: &'static str,
    },
    Time {
        col: &'static str,
    },
    /// `meta.resourceType`: a constant per resource type.
    Const(&'static str),
    /// A row of `user_attrs` with this key (head row of a multi-valued complex
    /// attribute when `multi_complex`).
    Index {
        key: String,
        case_exact: bool,
        ty: AttrType,
        multi_complex: bool,
    },
    /// Group membership (`groups` of a user / `members` of a group); `col` is the
    /// compared membership column.
    Membership {
        col: &'static str,
        ci: bool,
    },
}

pub struct Translator {
    kind: ResourceKind,
    dialect: Dialect,
    directory_id: String,
}

impl Translator {
    pub fn new(kind: ResourceKind, dialect: Dialect, directory_id: &str) -> Self {
        Translator {
            kind,
            dialect,
            directory_id: directory_id.to_string(),
        }
    }

    /// SQL boolean expression over the alias `r` (the resource row). Its shape comes
    /// from the request, so the statement is not kept prepared.
    pub fn translate(&self, f: &Filter) -> CoreResult<Sql> {
        Ok(self.translate_inner(f)?.uncached())
    }

    fn translate_inner(&self, f: &Filter) -> CoreResult<Sql> {
        match f {
            Filter::Attr(e) => self.attr_exp(e),
            Filter::ValuePath(vp) => self.value_path(&vp.attr, &vp.filter),
            Filter::Not(inner) => {
                let mut s = Sql::raw("NOT (");
                s.append(self.translate_inner(inner)?).push(")");
                Ok(s)
            }
            Filter::And(items) => self.join(items.iter().map(|i| self.translate_inner(i)), " AND "),
            Filter::Or(items) => self.join(items.iter().map(|i| self.translate_inner(i)), " OR "),
        }
    }

    fn join(&self, parts: impl Iterator<Item = CoreResult<Sql>>, sep: &str) -> CoreResult<Sql> {
        let mut s = Sql::raw("(");
        for (i, p) in parts.enumerate() {
            if i > 0 {
                s.push(sep);
            }
            s.push("(").append(p?).push(")");
        }
        s.push(")");
        Ok(s)
    }

    fn resolve(&self, p: &AttrPath) -> CoreResult<Target> {
        let name = p.name.to_ascii_lowercase();
        let sub = p.sub_attr.as_deref().map(str::to_ascii_lowercase);
        let uri = p.uri.as_deref();
        let core_uri = match self.kind {
            ResourceKind::User => USER_SCHEMA,
            ResourceKind::Group => GROUP_SCHEMA,
        };
        let is_core = uri.is_none_or(|u| u.eq_ignore_ascii_case(core_uri));
        let not_filterable = || {
            CoreError::invalid_filter(format!(
                "attribute `{}` cannot be filtered",
                display_path(p)
            ))
        };
        if is_core {
            match (self.kind, name.as_str(), sub.as_deref()) {
                (_, "id", None) => {
                    return Ok(Target::Text {
                        col: "r.id",
                        ci: false,
                    })
                }
                (_, "externalid", None) => {
                    return Ok(Target::Text {
                        col: "r.external_id",
                        ci: false,
                    })
                }
                (_, "meta", Some("created")) => {
                    return Ok(Target::Time {
                        col: "r.created_at",
                    })
                }
                (_, "meta", Some("lastmodified")) => {
                    return Ok(Target::Time {
                        col: "r.updated_at",
                    })
                }
                (ResourceKind::User, "meta", Some("resourcetype")) => {
                    return Ok(Target::Const("User"))
                }
                (ResourceKind::Group, "meta", Some("resourcetype")) => {
                    return Ok(Target::Const("Group"))
                }
                (_, "meta", _) => return Err(not_filterable()),
                (ResourceKind::User, "username", None) => {
                    return Ok(Target::Text {
                        col: "r.user_name_ci",
                        ci: true,
                    })
                }
                (ResourceKind::User, "active", None) => {
                    return Ok(Target::Bool { col: "r.active" })
                }
                (ResourceKind::User, "password", _) => return Err(not_filterable()),
                (ResourceKind::User, "groups", None | Some("value")) => {
                    return Ok(Target::Membership {
                        col: "m.group_id",
                        ci: false,
                    })
                }
                (ResourceKind::User, "groups", Some("display")) => {
                    return Ok(Target::Membership {
                        col: "g.display_name_ci",
                        ci: true,
                    })
                }
                (ResourceKind::Group, "displayname", None) => {
                    return Ok(Target::Text {
                        col: "r.display_name_ci",
                        ci: true,
                    })
                }
                (ResourceKind::Group, "members", None | Some("value")) => {
                    return Ok(Target::Membership {
                        col: "m.member_id",
                        ci: false,
                    })
                }
                (ResourceKind::Group, "members", Some("type")) => {
                    return Ok(Target::Membership {
                        col: "m.member_type",
                        ci: false,
                    })
                }
                (ResourceKind::Group, _, _) => return Err(not_filterable()),
                _ => {}
            }
        }
        // Users: everything else through the attribute index.
        let is_enterprise = uri.is_some_and(|u| u.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA));
        if is_core || is_enterprise {
            let resolved = schema::lookup(self.kind, uri, &p.name, p.sub_attr.as_deref())
                .ok_or_else(not_filterable)?;
            let attr = resolved.attr;
            let (ty, case_exact) = match resolved.sub {
                Some(s) => (s.ty, s.case_exact),
                None => (attr.ty, attr.case_exact),
            };
            let multi_complex = attr.multi_valued && matches!(attr.ty, AttrType::Complex);
            if matches!(attr.ty, AttrType::Complex) && resolved.sub.is_none() && !attr.multi_valued
            {
                return Err(CoreError::invalid_filter(format!(
                    "attribute `{}` is complex: filter on one of its sub-attributes",
                    display_path(p)
                )));
            }
            let key_uri = if is_enterprise {
                Some(ENTERPRISE_USER_SCHEMA)
            } else {
                None
            };
            // a multi-valued complex attribute without sub-attribute means its `value`
            let (key, ty, case_exact) = if multi_complex {
                match resolved.sub {
                    None => {
                        let v = attr.sub_attributes.iter().find(|s| s.name == "value");
                        (
                            index::key(key_uri, attr.name, None),
                            v.map(|s| s.ty).unwrap_or(AttrType::String),
                            v.map(|s| s.case_exact).unwrap_or(false),
                        )
                    }
                    Some(s) if index::HEAD_SUBS.contains(&s.name.to_ascii_lowercase().as_str()) => {
                        (index::key(key_uri, attr.name, None), ty, case_exact)
                    }
                    Some(s) => (index::key(key_uri, attr.name, Some(s.name)), ty, case_exact),
                }
            } else {
                (
                    index::key(key_uri, attr.name, resolved.sub.map(|s| s.name)),
                    ty,
                    case_exact,
                )
            };
            return Ok(Target::Index {
                key,
                case_exact,
                ty,
                multi_complex,
            });
        }
        // Unknown extension URN (e.g. Okta custom attributes): indexed as strings.
        match uri {
            Some(u) if self.kind == ResourceKind::User => Ok(Target::Index {
                key: index::key(Some(u), &p.name, p.sub_attr.as_deref()),
                case_exact: false,
                ty: AttrType::String,
                multi_complex: false,
            }),
            _ => Err(not_filterable()),
        }
    }

    fn attr_exp(&self, e: &AttrExp) -> CoreResult<Sql> {
        let (path, op, value) = match e {
            AttrExp::Present(p) => (p, None, None),
            AttrExp::Comparison(p, op, v) => (p, Some(op), Some(v)),
        };
        let target = self.resolve(path)?;
        let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);
        match target {
            Target::Const(c) => {
                let hit = match (op, value) {
                    (None, _) => true,
                    (Some(CompareOp::Eq), Some(CompValue::Str(s))) => s.eq_ignore_ascii_case(c),
                    (Some(CompareOp::Ne), Some(CompValue::Str(s))) => !s.eq_ignore_ascii_case(c),
                    _ => {
                        return Err(CoreError::invalid_filter(format!(
                            "`{}` supports only eq, ne and pr with a string",
                            display_path(path)
                        )))
                    }
                };
                Ok(Sql::raw(if hit { "1 = 1" } else { "1 = 0" }))
            }
            Target::Text { col, ci } => self.compare_text(col, ci, path, op, value, true),
            Target::Bool { col } => self.compare_bool(col, path, op, value),
            Target::Time { col } => self.compare_time(col, path, op, value),
            Target::Membership { col, ci } => {
                let join_group = col.starts_with("g.");
                let mut s = Sql::new();
                match self.kind {
                    ResourceKind::User => {
                        s.push("EXISTS (SELECT 1 FROM memberships m");
                        if join_group {
                            s.push(" JOIN directory_groups g ON g.id = m.group_id");
                        }
                        s.push(" WHERE m.member_id = r.id AND ");
                    }
                    ResourceKind::Group => {
                        s.push("EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = r.id AND ");
                    }
                }
                let cond = self.compare_text(col, ci, path, op, value, false)?;
                s.append(cond).push(")");
                Ok(s)
            }
            Target::Index {
                key,
                case_exact,
                ty,
                multi_complex,
            } => {
                // the sub-attribute compared lives on the head row for value/type/primary
                let (col_kind, key) = if multi_complex {
                    match sub.as_deref() {
                        Some("type") => (IndexCol::Type, key),
                        Some("primary") => (IndexCol::Primary, key),
                        _ => (IndexCol::Value, key),
                    }
                } else {
                    (IndexCol::Value, key)
                };
                self.index_exists(&key, |t, s| {
                    t.index_cond(s, col_kind, case_exact, ty, path, op, value)
                })
            }
        }
    }

    /// `r.id IN (SELECT a.user_id FROM user_attrs a WHERE a.directory_id = ? AND a.attr = ? AND cond)`;
    /// `ne`/`not` semantics stay with the caller (an absent attribute never matches eq).
    fn index_exists(
        &self,
        key: &str,
        cond: impl FnOnce(&Self, &mut Sql) -> CoreResult<()>,
    ) -> CoreResult<Sql> {
        if self.kind != ResourceKind::User {
            return Err(CoreError::invalid_filter("attribute cannot be filtered"));
        }
        let mut s = Sql::new();
        s.push("r.id IN (SELECT a.user_id FROM user_attrs a WHERE a.directory_id = ")
            .text(self.directory_id.clone())
            .push(" AND a.attr = ")
            .text(key.to_string())
            .push(" AND ");
        cond(self, &mut s)?;
        s.push(")");
        Ok(s)
    }

    #[allow(clippy::too_many_arguments)]
    fn index_cond(
        &self,
        s: &mut Sql,
        col: IndexCol,
        case_exact: bool,
        ty: AttrType,
        path: &AttrPath,
        op: Option<&CompareOp>,
        value: Option<&CompValue>,
    ) -> CoreResult<()> {
        self.index_cond_alias(s, "a", col, case_exact, ty, path, op, value)
    }

    #[allow(clippy::too_many_arguments)]
    fn index_cond_alias(
        &self,
        s: &mut Sql,
        alias: &str,
        col: IndexCol,
        case_exact: bool,
        ty: AttrType,
        path: &AttrPath,
        op: Option<&CompareOp>,
        value: Option<&CompValue>,
    ) -> CoreResult<()> {
        match col {
            IndexCol::Primary => {
                let c = format!("{alias}.vprimary");
                s.append(self.compare_bool(&c, path, op, value)?);
            }
            IndexCol::Type => {
                let c = format!("{alias}.vtype");
                s.append(self.compare_text(&c, true, path, op, value, false)?);
            }
            IndexCol::Value => match ty {
                AttrType::Boolean => {
                    // stored as "true"/"false" text
                    let b = match (op, value) {
                        (None, _) => None,
                        (Some(CompareOp::Eq), Some(CompValue::True)) => Some("true"),
                        (Some(CompareOp::Eq), Some(CompValue::False)) => Some("false"),
                        (Some(CompareOp::Ne), Some(CompValue::True)) => Some("false"),
                        (Some(CompareOp::Ne), Some(CompValue::False)) => Some("true"),
                        _ => {
                            return Err(CoreError::invalid_filter(format!(
                                "`{}` is boolean: use eq/ne with true or false, or pr",
                                display_path(path)
                            )))
                        }
                    };
                    match b {
                        None => {
                            s.push(format!("{alias}.value IS NOT NULL"));
                        }
                        Some(v) => {
                            s.push(format!("{alias}.value_ci = ")).text(v);
                        }
                    }
                }
                _ => {
                    let c = if case_exact {
                        format!("{alias}.value")
                    } else {
                        format!("{alias}.value_ci")
                    };
                    s.append(self.compare_text(&c, !case_exact, path, op, value, false)?);
                }
            },
        }
        Ok(())
    }

    fn value_path(&self, attr: &AttrPath, f: &ValFilter) -> CoreResult<Sql> {
        let name = attr.name.to_ascii_lowercase();
        // members[...] of a group / groups[...] of a user: sub-attributes are membership columns
        let membership = matches!(
            (self.kind, name.as_str()),
            (ResourceKind::Group, "members") | (ResourceKind::User, "groups")
        );
        if membership {
            let mut s = Sql::new();
            match self.kind {
                ResourceKind::Group => s.push("EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = r.id AND ("),
                ResourceKind::User => s.push(
                    "EXISTS (SELECT 1 FROM memberships m JOIN directory_groups g ON g.id = m.group_id WHERE m.member_id = r.id AND (",
                ),
            };
            s.append(self.membership_val_filter(attr, f)?).push("))");
            return Ok(s);
        }
        let resolved = schema::lookup(self.kind, attr.uri.as_deref(), &attr.name, None)
            .ok_or_else(|| {
                CoreError::invalid_filter(format!(
                    "attribute `{}` cannot be filtered",
                    display_path(attr)
                ))
            })?;
        if self.kind != ResourceKind::User || !matches!(resolved.attr.ty, AttrType::Complex) {
            return Err(CoreError::invalid_filter(format!(
                "`{}[...]` needs a complex attribute",
                display_path(attr)
            )));
        }
        let is_enterprise = attr
            .uri
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA));
        let key_uri = if is_enterprise {
            Some(ENTERPRISE_USER_SCHEMA)
        } else {
            None
        };
        if resolved.attr.multi_valued {
            // one head row per element; conditions on other sub-attributes join by elem
            let key = index::key(key_uri, resolved.attr.name, None);
            let mut s = Sql::new();
            s.push("r.id IN (SELECT a.user_id FROM user_attrs a WHERE a.directory_id = ")
                .text(self.directory_id.clone())
                .push(" AND a.attr = ")
                .text(key)
                .push(" AND (");
            s.append(self.element_filter(resolved.attr, key_uri, f)?)
                .push("))");
            Ok(s)
        } else {
            // single-valued complex (`name[givenName eq "x"]`): each condition on its own row
            self.single_complex_filter(attr, f)
        }
    }

    fn single_complex_filter(&self, attr: &AttrPath, f: &ValFilter) -> CoreResult<Sql> {
        match f {
            ValFilter::Attr(e) => {
                let (p, op, v) = split(e);
                let sub_path = AttrPath {
                    uri: attr.uri.clone(),
                    name: attr.name.clone(),
                    sub_attr: Some(p.name.clone()),
                };
                let e2 = match (op, v) {
                    (Some(op), Some(v)) => AttrExp::Comparison(sub_path, op.clone(), v.clone()),
                    _ => AttrExp::Present(sub_path),
                };
                self.attr_exp(&e2)
            }
            ValFilter::Not(inner) => {
                let mut s = Sql::raw("NOT (");
                s.append(self.single_complex_filter(attr, inner)?).push(")");
                Ok(s)
            }
            ValFilter::And(items) => self.join(
                items.iter().map(|i| self.single_complex_filter(attr, i)),
                " AND ",
            ),
            ValFilter::Or(items) => self.join(
                items.iter().map(|i| self.single_complex_filter(attr, i)),
                " OR ",
            ),
        }
    }

    /// A value filter over the elements of a multi-valued complex attribute, as a
    /// condition on the head row `a`.
    fn element_filter(
        &self,
        attr: &'static schema::AttrDef,
        key_uri: Option<&str>,
        f: &ValFilter,
    ) -> CoreResult<Sql> {
        match f {
            ValFilter::Attr(e) => {
                let (p, op, v) = split(e);
                let sub_name = p.name.to_ascii_lowercase();
                let sub = attr
                    .sub_attributes
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(&sub_name))
                    .ok_or_else(|| {
                        CoreError::invalid_filter(format!(
                            "`{}` has no sub-attribute `{}`",
                            attr.name, p.name
                        ))
                    })?;
                let full = AttrPath {
                    uri: key_uri.map(str::to_string),
                    name: attr.name.to_string(),
                    sub_attr: Some(sub.name.to_string()),
                };
                let mut s = Sql::new();
                match sub_name.as_str() {
                    "value" => self.index_cond_alias(
                        &mut s,
                        "a",
                        IndexCol::Value,
                        sub.case_exact,
                        sub.ty,
                        &full,
                        op,
                        v,
                    )?,
                    "type" => self.index_cond_alias(
                        &mut s,
                        "a",
                        IndexCol::Type,
                        false,
                        sub.ty,
                        &full,
                        op,
                        v,
                    )?,
                    "primary" => self.index_cond_alias(
                        &mut s,
                        "a",
                        IndexCol::Primary,
                        true,
                        sub.ty,
                        &full,
                        op,
                        v,
                    )?,
                    _ => {
                        let key = index::key(key_uri, attr.name, Some(sub.name));
                        let mut inner = Sql::new();
                        inner
                            .push("EXISTS (SELECT 1 FROM user_attrs b WHERE b.user_id = a.user_id AND b.elem = a.elem AND b.attr = ")
                            .text(key)
                            .push(" AND ");
                        self.index_cond_alias(
                            &mut inner,
                            "b",
                            IndexCol::Value,
                            sub.case_exact,
                            sub.ty,
                            &full,
                            op,
                            v,
                        )?;
                        inner.push(")");
                        s.append(inner);
                    }
                }
                Ok(s)
            }
            ValFilter::Not(inner) => {
                let mut s = Sql::raw("NOT (");
                s.append(self.element_filter(attr, key_uri, inner)?)
                    .push(")");
                Ok(s)
            }
            ValFilter::And(items) => self.join(
                items.iter().map(|i| self.element_filter(attr, key_uri, i)),
                " AND ",
            ),
            ValFilter::Or(items) => self.join(
                items.iter().map(|i| self.element_filter(attr, key_uri, i)),
                " OR ",
            ),
        }
    }

    fn membership_val_filter(&self, attr: &AttrPath, f: &ValFilter) -> CoreResult<Sql> {
        match f {
            ValFilter::Attr(e) => {
                let (p, op, v) = split(e);
                let (col, ci): (&'static str, bool) =
                    match (self.kind, p.name.to_ascii_lowercase().as_str()) {
                        (ResourceKind::Group, "value") => ("m.member_id", false),
                        (ResourceKind::Group, "type") => ("m.member_type", false),
                        (ResourceKind::User, "value") => ("m.group_id", false),
                        (ResourceKind::User, "display") => ("g.display_name_ci", true),
                        _ => {
                            return Err(CoreError::invalid_filter(format!(
                                "`{}.{}` cannot be filtered",
                                attr.name, p.name
                            )))
                        }
                    };
                self.compare_text(col, ci, p, op, v, false)
            }
            ValFilter::Not(inner) => {
                let mut s = Sql::raw("NOT (");
                s.append(self.membership_val_filter(attr, inner)?).push(")");
                Ok(s)
            }
            ValFilter::And(items) => self.join(
                items.iter().map(|i| self.membership_val_filter(attr, i)),
                " AND ",
            ),
            ValFilter::Or(items) => self.join(
                items.iter().map(|i| self.membership_val_filter(attr, i)),
                " OR ",
            ),
        }
    }

    fn collate(&self) -> &'static str {
        match self.dialect {
            Dialect::Pg => " COLLATE \"C\"",
            Dialect::Sqlite => "",
        }
    }

    /// Text comparison on `col`. `ci`: the column holds lower-cased text, so the value
    /// is lower-cased too. `nullable_ne`: `ne` also matches rows where the column is NULL.
    fn compare_text(
        &self,
        col: &str,
        ci: bool,
        path: &AttrPath,
        op: Option<&CompareOp>,
        value: Option<&CompValue>,
        nullable_ne: bool,
    ) -> CoreResult<Sql> {
        let mut s = Sql::new();
        let Some(op) = op else {
            s.push(format!("({col} IS NOT NULL AND {col} <> ''"))
                .push(")");
            return Ok(s);
        };
        let v = match value {
            Some(CompValue::Str(v)) => v.clone(),
            Some(CompValue::Null) => {
                return match op {
                    CompareOp::Eq => Ok(Sql::raw(format!("{col} IS NULL"))),
                    CompareOp::Ne => Ok(Sql::raw(format!("{col} IS NOT NULL"))),
                    _ => Err(CoreError::invalid_filter(format!(
                        "`{}`: null can only be compared with eq or ne",
                        display_path(path)
                    ))),
                }
            }
            Some(other) => {
                return Err(CoreError::invalid_filter(format!(
                    "`{}` is a string attribute; {} is not a string",
                    display_path(path),
                    other
                )))
            }
            None => return Err(CoreError::invalid_filter("comparison without a value")),
        };
        let v = if ci { v.to_lowercase() } else { v };
        let coll = self.collate();
        match op {
            CompareOp::Eq => {
                s.push(format!("{col} = ")).text(v);
            }
            CompareOp::Ne => {
                if nullable_ne {
                    s.push(format!("({col} IS NULL OR {col} <> "))
                        .text(v)
                        .push(")");
                } else {
                    s.push(format!("{col} <> ")).text(v);
                }
            }
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew
                if !ci && self.dialect == Dialect::Sqlite =>
            {
                // SQLite's LIKE ignores ASCII case; GLOB is case-sensitive (caseExact).
                let g = glob_escape(&v);
                let pat = match op {
                    CompareOp::Co => format!("*{g}*"),
                    CompareOp::Sw => format!("{g}*"),
                    _ => format!("*{g}"),
                };
                s.push(format!("{col} GLOB ")).text(pat);
            }
            CompareOp::Co => {
                s.push(format!("{col} LIKE "))
                    .text(format!("%{}%", like_escape(&v)))
                    .push(" ESCAPE '\\'");
            }
            CompareOp::Sw => {
                s.push(format!("{col} LIKE "))
                    .text(format!("{}%", like_escape(&v)))
                    .push(" ESCAPE '\\'");
            }
            CompareOp::Ew => {
                s.push(format!("{col} LIKE "))
                    .text(format!("%{}", like_escape(&v)))
                    .push(" ESCAPE '\\'");
            }
            CompareOp::Gt => {
                s.push(format!("{col}{coll} > ")).text(v);
            }
            CompareOp::Ge => {
                s.push(format!("{col}{coll} >= ")).text(v);
            }
            CompareOp::Lt => {
                s.push(format!("{col}{coll} < ")).text(v);
            }
            CompareOp::Le => {
                s.push(format!("{col}{coll} <= ")).text(v);
            }
        }
        Ok(s)
    }

    fn compare_bool(
        &self,
        col: &str,
        path: &AttrPath,
        op: Option<&CompareOp>,
        value: Option<&CompValue>,
    ) -> CoreResult<Sql> {
        let Some(op) = op else {
            return Ok(Sql::raw(format!("{col} IS NOT NULL")));
        };
        let b = match value {
            Some(CompValue::True) => true,
            Some(CompValue::False) => false,
            Some(CompValue::Str(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(CompValue::Str(s)) if s.eq_ignore_ascii_case("false") => false,
            _ => {
                return Err(CoreError::invalid_filter(format!(
                    "`{}` is boolean: compare with true or false",
                    display_path(path)
                )))
            }
        };
        let mut s = Sql::new();
        match op {
            CompareOp::Eq => {
                s.push(format!("{col} = ")).bind(Bind::Bool(b));
            }
            CompareOp::Ne => {
                s.push(format!("({col} IS NULL OR {col} <> "))
                    .bind(Bind::Bool(b))
                    .push(")");
            }
            _ => {
                return Err(CoreError::invalid_filter(format!(
                    "`{}` is boolean: only eq, ne and pr apply",
                    display_path(path)
                )))
            }
        }
        Ok(s)
    }

    fn compare_time(
        &self,
        col: &str,
        path: &AttrPath,
        op: Option<&CompareOp>,
        value: Option<&CompValue>,
    ) -> CoreResult<Sql> {
        let Some(op) = op else {
            return Ok(Sql::raw(format!("{col} IS NOT NULL")));
        };
        let t = match value {
            Some(CompValue::Str(s)) => clock::parse_rfc3339(s).ok_or_else(|| {
                CoreError::invalid_filter(format!(
                    "`{}` is a dateTime: {s:?} is not an RFC 3339 date-time",
                    display_path(path)
                ))
            })?,
            _ => {
                return Err(CoreError::invalid_filter(format!(
                    "`{}` is a dateTime: compare with an RFC 3339 string",
                    display_path(path)
                )))
            }
        };
        let sym = match op {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            _ => {
                return Err(CoreError::invalid_filter(format!(
                    "`{}` is a dateTime: co/sw/ew do not apply",
                    display_path(path)
                )))
            }
        };
        let mut s = Sql::new();
        s.push(format!("{col} {sym} ")).bind(Bind::Timestamp(t));
        Ok(s)
    }
}

#[derive(Debug, Clone, Copy)]
enum IndexCol {
    Value,
    Type,
    Primary,
}

fn split(e: &AttrExp) -> (&AttrPath, Option<&CompareOp>, Option<&CompValue>) {
    match e {
        AttrExp::Present(p) => (p, None, None),
        AttrExp::Comparison(p, op, v) => (p, Some(op), Some(v)),
    }
}

fn display_path(p: &AttrPath) -> String {
    let mut s = String::new();
    if let Some(u) = &p.uri {
        s.push_str(u);
        s.push(':');
    }
    s.push_str(&p.name);
    if let Some(sub) = &p.sub_attr {
        s.push('.');
        s.push_str(sub);
    }
    s
}

/// Escape GLOB wildcards (`*`, `?`, `[`) as one-character classes.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_eq_agrees_with_the_parser() {
        let fast = [
            r#"userName eq "bjensen@example.com""#,
            r#"userName EQ "x""#,
            r#"userName   Eq   "x""#,
            r#"externalId eq "00u1abc""#,
            r#"displayName eq "Engineering ""#,
            r#"name.givenName eq "Ann""#,
            r#"a-b_c eq """#,
            r#"userName eq "a\"b""#,
            r#"userName eq "a\\b""#,
            r#"userName eq "\u00e9t\u00e9""#,
            r#"userName eq "é ü 漢字""#,
            r#"userName eq "a\/b\tc""#,
            r#"userName eq "eq""#,
        ];
        for f in fast {
            let ours = simple_eq(f);
            assert!(ours.is_some(), "{f}: expected the fast path");
            assert_eq!(ours, f.parse::<Filter>().ok(), "{f}");
        }
        // everything else goes to the parser (or is an error there)
        let slow = [
            r#"userName eq "x" and active eq true"#,
            r#"userName eq "x" "#,
            r#" userName eq "x""#,
            r#"userName eq "x"y"#,
            r#"userName eq "x""y""#,
            r#"userName eq "x"#,
            r#"userName eq x"#,
            r#"userName eq 1"#,
            r#"userName eq true"#,
            r#"userName ne "x""#,
            r#"userName eqq "x""#,
            r#"userName eq"x""#,
            "userName\teq \"x\"",
            r#"userName eq "bad \q escape""#,
            "userName eq \"a\\\nb\"",
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#,
            r#"emails[type eq "work"] eq "x""#,
            r#"a.b.c eq "x""#,
            r#"1a eq "x""#,
            r#"userName pr"#,
            "",
        ];
        for f in slow {
            assert_eq!(simple_eq(f), None, "{f}: expected the parser");
        }
    }

    #[test]
    fn rewrites_entra_value_path_with_sub_attribute() {
        assert_eq!(
            rewrite_value_path_sub_attr(r#"emails[type eq "work"].value eq "a@b.c""#),
            r#"emails[(type eq "work") and value eq "a@b.c"]"#
        );
        assert_eq!(
            rewrite_value_path_sub_attr(r#"userName eq "a].b eq""#),
            r#"userName eq "a].b eq""#
        );
        assert!(parse(r#"emails[type eq "work"].value eq "x""#).is_ok());
        assert!(parse(r#"emails[type eq "work"].value pr"#).is_ok());
    }

    #[test]
    fn rejects_garbage_and_huge_filters() {
        assert!(parse("userName eq").is_err());
        assert!(parse("userName eq 'single'").is_err());
        assert!(parse("(userName eq \"a\"").is_err());
        let big = (0..60)
            .map(|i| format!("userName eq \"{i}\""))
            .collect::<Vec<_>>()
            .join(" or ");
        assert!(parse(&big).is_err());
        // NUL, raw or escaped, anywhere (PostgreSQL text cannot hold it)
        assert!(parse("userName eq \"a\u{0}b\"").is_err());
        assert!(parse("emails[value eq \"\\u0000\"]").is_err());
        assert!(parse("emails[value eq \"a\"]").is_ok());
    }

    fn sql_for(kind: ResourceKind, f: &str) -> CoreResult<String> {
        let t = Translator::new(kind, Dialect::Pg, "d1");
        Ok(t.translate(&parse(f)?)?.render(Dialect::Pg))
    }

    #[test]
    fn translates_columns_index_and_memberships() {
        let s = sql_for(ResourceKind::User, r#"userName Eq "A@B.c""#).unwrap_or_default();
        assert_eq!(s, "r.user_name_ci = $1");
        let s = sql_for(
            ResourceKind::User,
            r#"emails[type eq "work" and value co "@x"]"#,
        )
        .unwrap_or_default();
        assert!(s.contains("a.attr = $2"), "{s}");
        assert!(s.contains("a.vtype = $3"), "{s}");
        let s = sql_for(
            ResourceKind::User,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m""#,
        )
        .unwrap_or_default();
        assert!(
            s.starts_with("r.id IN (SELECT a.user_id FROM user_attrs a"),
            "{s}"
        );
        let s = sql_for(ResourceKind::Group, r#"members[value eq "u1"]"#).unwrap_or_default();
        assert!(s.contains("m.member_id = $1"), "{s}");
        let s = sql_for(
            ResourceKind::User,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        )
        .unwrap_or_default();
        assert_eq!(s, "r.updated_at > $1");
        assert!(sql_for(ResourceKind::User, r#"password eq "x""#).is_err());
        assert!(sql_for(ResourceKind::User, r#"nosuchattr eq "x""#).is_err());
        assert!(sql_for(ResourceKind::User, r#"active gt true"#).is_err());
        assert!(sql_for(ResourceKind::Group, r#"nosuch eq "x""#).is_err());
        let s =
            sql_for(ResourceKind::User, r#"not (title pr) or active eq false"#).unwrap_or_default();
        assert!(s.contains("NOT ("), "{s}");
    }
}
