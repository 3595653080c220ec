//! SCIM filters (RFC 7644 §3.4.2.2): parsed, checked and resolved against how each
//! attribute is stored, into a [`Cond`] that `store::filter_sql` writes as
//! parameterized SQL.
//!
//! Parsing is `scim_v2`'s grammar (operators and attribute names case-insensitive,
//! URN-qualified names, value paths, and/or/not, parentheses). This module decides
//! which attributes can be filtered and how: real columns for `id`, `userName`,
//! `externalId`, `active`, `meta.*` (users) and `displayName` (groups), the
//! `user_attrs` index for every other attribute, and `memberships` for `groups` /
//! `members`. Anything else is `400 invalidFilter`. No value ever enters SQL text.

use chrono::NaiveDateTime;
use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, ValFilter};
use scimgate_connectors::ResourceKind;

use crate::clock;
use crate::error::{CoreError, CoreResult};
use crate::scim::index;
use crate::scim::schema::{self, AttrType, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

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

/// Where a filtered (or sorted) value is stored, named for what it holds;
/// `store::filter_sql` knows the columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The resource's own row: `id`, `externalId`, `meta.created`, `meta.lastModified`.
    Id,
    ExternalId,
    Created,
    LastModified,
    /// A user's `userName`, lower-cased, and `active`.
    UserName,
    Active,
    /// A group's `displayName`, lower-cased.
    DisplayName,
    /// A membership: its group, its member and the member's type.
    MemberGroup,
    Member,
    MemberType,
    /// The `displayName` (lower-cased) of a membership's group.
    GroupName,
    /// An index row of the user (see [`Cond::Indexed`]): its value, its value
    /// lower-cased, its element's `type` (lower-cased) and `primary`.
    Value,
    ValueCi,
    ValueType,
    ValuePrimary,
}

/// A value a field is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Text(String),
    Bool(bool),
    Time(NaiveDateTime),
}

/// `co`, `sw`, `ew`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Contains,
    StartsWith,
    EndsWith,
}

/// `gt`, `ge`, `lt`, `le`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderOp {
    Gt,
    Ge,
    Lt,
    Le,
}

/// How a field is tested.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Holds text other than the empty string (`pr` of a string).
    NotEmpty,
    /// Is not NULL (`pr` of a boolean or a dateTime, `ne null`).
    NotNull,
    /// Is NULL (`eq null`).
    Null,
    Eq(Operand),
    Ne(Operand),
    /// `ne`, also true where the field is NULL.
    NeOrNull(Operand),
    /// `co`, `sw`, `ew`; `case_exact`: the field holds text as written (caseExact),
    /// else it holds lower-cased text and `text` was lower-cased too.
    Match {
        how: MatchOp,
        text: String,
        case_exact: bool,
    },
    /// Text in code-point order, or times.
    Order(OrderOp, Operand),
}

/// A filter resolved against how each attribute is stored: what `store::filter_sql`
/// writes as SQL over the resource row `r`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// True or false for every resource (`meta.resourceType`).
    Const(bool),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Test(Field, Test),
    /// The resource has a membership for which `cond` holds: one of a user's groups
    /// (`kind` User) or of a group's members (`kind` Group). `value_path`: written as
    /// `groups[…]` / `members[…]`.
    Membership {
        kind: ResourceKind,
        cond: Box<Cond>,
        value_path: bool,
    },
    /// The user has an index row of attribute `key` for which `cond` holds.
    /// `value_path`: `attr[…]` over the elements of a multi-valued attribute, whose
    /// head rows carry `type` and `primary`.
    Indexed {
        key: String,
        cond: Box<Cond>,
        value_path: bool,
    },
    /// Within [`Cond::Indexed`] over elements: the element's index row of sub-attribute
    /// `key` satisfies `cond`.
    Sibling {
        key: String,
        cond: Box<Cond>,
    },
}

/// How an attribute is stored.
#[derive(Debug, Clone)]
enum Target {
    /// A text field; `ci` = stored lower-cased (caseExact false).
    Text {
        field: Field,
        ci: bool,
    },
    Bool {
        field: Field,
    },
    Time {
        field: Field,
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
    /// Group membership (`groups` of a user / `members` of a group); `field` is the
    /// compared membership field.
    Membership {
        field: Field,
        ci: bool,
    },
}

/// Resolves parsed filters on one resource type into [`Cond`]s.
struct Resolver {
    kind: ResourceKind,
}

/// A parsed filter on `kind`, resolved: `400 invalidFilter` for what cannot be
/// filtered or compared so.
pub fn resolve(kind: ResourceKind, f: &Filter) -> CoreResult<Cond> {
    Resolver { kind }.resolve(f)
}

impl Resolver {
    /// The filter as a condition on the resource.
    fn resolve(&self, f: &Filter) -> CoreResult<Cond> {
        match f {
            Filter::Attr(e) => self.attr_exp(e),
            Filter::ValuePath(vp) => self.value_path(&vp.attr, &vp.filter),
            Filter::Not(inner) => Ok(Cond::Not(Box::new(self.resolve(inner)?))),
            Filter::And(items) => Ok(Cond::And(
                items
                    .iter()
                    .map(|i| self.resolve(i))
                    .collect::<CoreResult<_>>()?,
            )),
            Filter::Or(items) => Ok(Cond::Or(
                items
                    .iter()
                    .map(|i| self.resolve(i))
                    .collect::<CoreResult<_>>()?,
            )),
        }
    }

    fn target(&self, p: &AttrPath) -> CoreResult<Target> {
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
                        field: Field::Id,
                        ci: false,
                    })
                }
                (_, "externalid", None) => {
                    return Ok(Target::Text {
                        field: Field::ExternalId,
                        ci: false,
                    })
                }
                (_, "meta", Some("created")) => {
                    return Ok(Target::Time {
                        field: Field::Created,
                    })
                }
                (_, "meta", Some("lastmodified")) => {
                    return Ok(Target::Time {
                        field: Field::LastModified,
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
                        field: Field::UserName,
                        ci: true,
                    })
                }
                (ResourceKind::User, "active", None) => {
                    return Ok(Target::Bool {
                        field: Field::Active,
                    })
                }
                (ResourceKind::User, "password", _) => return Err(not_filterable()),
                (ResourceKind::User, "groups", None | Some("value")) => {
                    return Ok(Target::Membership {
                        field: Field::MemberGroup,
                        ci: false,
                    })
                }
                (ResourceKind::User, "groups", Some("display")) => {
                    return Ok(Target::Membership {
                        field: Field::GroupName,
                        ci: true,
                    })
                }
                (ResourceKind::Group, "displayname", None) => {
                    return Ok(Target::Text {
                        field: Field::DisplayName,
                        ci: true,
                    })
                }
                (ResourceKind::Group, "members", None | Some("value")) => {
                    return Ok(Target::Membership {
                        field: Field::Member,
                        ci: false,
                    })
                }
                (ResourceKind::Group, "members", Some("type")) => {
                    return Ok(Target::Membership {
                        field: Field::MemberType,
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

    fn attr_exp(&self, e: &AttrExp) -> CoreResult<Cond> {
        let (path, op, value) = match e {
            AttrExp::Present(p) => (p, None, None),
            AttrExp::Comparison(p, op, v) => (p, Some(op), Some(v)),
        };
        let target = self.target(path)?;
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
                Ok(Cond::Const(hit))
            }
            Target::Text { field, ci } => {
                Ok(Cond::Test(field, text_test(ci, path, op, value, true)?))
            }
            Target::Bool { field } => Ok(Cond::Test(field, bool_test(path, op, value)?)),
            Target::Time { field } => Ok(Cond::Test(field, time_test(path, op, value)?)),
            Target::Membership { field, ci } => {
                let cond = Cond::Test(field, text_test(ci, path, op, value, false)?);
                Ok(Cond::Membership {
                    kind: self.kind,
                    cond: Box::new(cond),
                    value_path: false,
                })
            }
            Target::Index {
                key,
                case_exact,
                ty,
                multi_complex,
            } => {
                // the sub-attribute compared lives on the head row for value/type/primary
                let col_kind = if multi_complex {
                    match sub.as_deref() {
                        Some("type") => IndexCol::Type,
                        Some("primary") => IndexCol::Primary,
                        _ => IndexCol::Value,
                    }
                } else {
                    IndexCol::Value
                };
                if self.kind != ResourceKind::User {
                    return Err(CoreError::invalid_filter("attribute cannot be filtered"));
                }
                Ok(Cond::Indexed {
                    key,
                    cond: Box::new(index_cond(col_kind, case_exact, ty, path, op, value)?),
                    value_path: false,
                })
            }
        }
    }

    fn value_path(&self, attr: &AttrPath, f: &ValFilter) -> CoreResult<Cond> {
        let name = attr.name.to_ascii_lowercase();
        // members[...] of a group / groups[...] of a user: sub-attributes are membership fields
        let membership = matches!(
            (self.kind, name.as_str()),
            (ResourceKind::Group, "members") | (ResourceKind::User, "groups")
        );
        if membership {
            return Ok(Cond::Membership {
                kind: self.kind,
                cond: Box::new(self.membership_val_filter(attr, f)?),
                value_path: true,
            });
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
            // one head row per element; conditions on other sub-attributes by element
            let key = index::key(key_uri, resolved.attr.name, None);
            Ok(Cond::Indexed {
                key,
                cond: Box::new(self.element_filter(resolved.attr, key_uri, f)?),
                value_path: true,
            })
        } else {
            // single-valued complex (`name[givenName eq "x"]`): each condition on its own row
            self.single_complex_filter(attr, f)
        }
    }

    /// A value filter's `and`, `or` and `not` over conditions resolved by `leaf`.
    fn val_filter(
        &self,
        f: &ValFilter,
        leaf: &dyn Fn(&AttrExp) -> CoreResult<Cond>,
    ) -> CoreResult<Cond> {
        match f {
            ValFilter::Attr(e) => leaf(e),
            ValFilter::Not(inner) => Ok(Cond::Not(Box::new(self.val_filter(inner, leaf)?))),
            ValFilter::And(items) => Ok(Cond::And(
                items
                    .iter()
                    .map(|i| self.val_filter(i, leaf))
                    .collect::<CoreResult<_>>()?,
            )),
            ValFilter::Or(items) => Ok(Cond::Or(
                items
                    .iter()
                    .map(|i| self.val_filter(i, leaf))
                    .collect::<CoreResult<_>>()?,
            )),
        }
    }

    fn single_complex_filter(&self, attr: &AttrPath, f: &ValFilter) -> CoreResult<Cond> {
        self.val_filter(f, &|e| {
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
        })
    }

    /// A value filter over the elements of a multi-valued complex attribute, as a
    /// condition on the element's head row.
    fn element_filter(
        &self,
        attr: &'static schema::AttrDef,
        key_uri: Option<&str>,
        f: &ValFilter,
    ) -> CoreResult<Cond> {
        self.val_filter(f, &|e| {
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
            match sub_name.as_str() {
                "value" => index_cond(IndexCol::Value, sub.case_exact, sub.ty, &full, op, v),
                "type" => index_cond(IndexCol::Type, false, sub.ty, &full, op, v),
                "primary" => index_cond(IndexCol::Primary, true, sub.ty, &full, op, v),
                _ => Ok(Cond::Sibling {
                    key: index::key(key_uri, attr.name, Some(sub.name)),
                    cond: Box::new(index_cond(
                        IndexCol::Value,
                        sub.case_exact,
                        sub.ty,
                        &full,
                        op,
                        v,
                    )?),
                }),
            }
        })
    }

    fn membership_val_filter(&self, attr: &AttrPath, f: &ValFilter) -> CoreResult<Cond> {
        self.val_filter(f, &|e| {
            let (p, op, v) = split(e);
            let (field, ci) = match (self.kind, p.name.to_ascii_lowercase().as_str()) {
                (ResourceKind::Group, "value") => (Field::Member, false),
                (ResourceKind::Group, "type") => (Field::MemberType, false),
                (ResourceKind::User, "value") => (Field::MemberGroup, false),
                (ResourceKind::User, "display") => (Field::GroupName, true),
                _ => {
                    return Err(CoreError::invalid_filter(format!(
                        "`{}.{}` cannot be filtered",
                        attr.name, p.name
                    )))
                }
            };
            Ok(Cond::Test(field, text_test(ci, p, op, v, false)?))
        })
    }
}

/// A condition on an index row: its `primary`, its `type`, or its value (as text, or
/// a boolean stored as `"true"`/`"false"`).
fn index_cond(
    col: IndexCol,
    case_exact: bool,
    ty: AttrType,
    path: &AttrPath,
    op: Option<&CompareOp>,
    value: Option<&CompValue>,
) -> CoreResult<Cond> {
    Ok(match col {
        IndexCol::Primary => Cond::Test(Field::ValuePrimary, bool_test(path, op, value)?),
        IndexCol::Type => Cond::Test(Field::ValueType, text_test(true, path, op, value, false)?),
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
                    None => Cond::Test(Field::Value, Test::NotNull),
                    Some(v) => Cond::Test(Field::ValueCi, Test::Eq(Operand::Text(v.into()))),
                }
            }
            _ => {
                let field = if case_exact {
                    Field::Value
                } else {
                    Field::ValueCi
                };
                Cond::Test(field, text_test(!case_exact, path, op, value, false)?)
            }
        },
    })
}

/// A test of a text field. `ci`: the field holds lower-cased text, so the value is
/// lower-cased too. `nullable_ne`: `ne` also matches where the field is NULL.
fn text_test(
    ci: bool,
    path: &AttrPath,
    op: Option<&CompareOp>,
    value: Option<&CompValue>,
    nullable_ne: bool,
) -> CoreResult<Test> {
    let Some(op) = op else {
        return Ok(Test::NotEmpty);
    };
    let v = match value {
        Some(CompValue::Str(v)) => v.clone(),
        Some(CompValue::Null) => {
            return match op {
                CompareOp::Eq => Ok(Test::Null),
                CompareOp::Ne => Ok(Test::NotNull),
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
    let matching = |how| Test::Match {
        how,
        text: v.clone(),
        case_exact: !ci,
    };
    Ok(match op {
        CompareOp::Eq => Test::Eq(Operand::Text(v)),
        CompareOp::Ne if nullable_ne => Test::NeOrNull(Operand::Text(v)),
        CompareOp::Ne => Test::Ne(Operand::Text(v)),
        CompareOp::Co => matching(MatchOp::Contains),
        CompareOp::Sw => matching(MatchOp::StartsWith),
        CompareOp::Ew => matching(MatchOp::EndsWith),
        CompareOp::Gt => Test::Order(OrderOp::Gt, Operand::Text(v)),
        CompareOp::Ge => Test::Order(OrderOp::Ge, Operand::Text(v)),
        CompareOp::Lt => Test::Order(OrderOp::Lt, Operand::Text(v)),
        CompareOp::Le => Test::Order(OrderOp::Le, Operand::Text(v)),
    })
}

fn bool_test(
    path: &AttrPath,
    op: Option<&CompareOp>,
    value: Option<&CompValue>,
) -> CoreResult<Test> {
    let Some(op) = op else {
        return Ok(Test::NotNull);
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
    match op {
        CompareOp::Eq => Ok(Test::Eq(Operand::Bool(b))),
        CompareOp::Ne => Ok(Test::NeOrNull(Operand::Bool(b))),
        _ => Err(CoreError::invalid_filter(format!(
            "`{}` is boolean: only eq, ne and pr apply",
            display_path(path)
        ))),
    }
}

fn time_test(
    path: &AttrPath,
    op: Option<&CompareOp>,
    value: Option<&CompValue>,
) -> CoreResult<Test> {
    let Some(op) = op else {
        return Ok(Test::NotNull);
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
    let t = Operand::Time(t);
    match op {
        CompareOp::Eq => Ok(Test::Eq(t)),
        CompareOp::Ne => Ok(Test::Ne(t)),
        CompareOp::Gt => Ok(Test::Order(OrderOp::Gt, t)),
        CompareOp::Ge => Ok(Test::Order(OrderOp::Ge, t)),
        CompareOp::Lt => Ok(Test::Order(OrderOp::Lt, t)),
        CompareOp::Le => Ok(Test::Order(OrderOp::Le, t)),
        _ => Err(CoreError::invalid_filter(format!(
            "`{}` is a dateTime: co/sw/ew do not apply",
            display_path(path)
        ))),
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
}
