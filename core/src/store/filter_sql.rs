//! A resolved SCIM filter ([`Cond`], `scim::filter`) and sort key ([`SortKey`],
//! `scim::sort`) as SQL over the resource row `r`: real columns, `user_attrs` index
//! rows (`a`, and `b` for an element's other sub-attributes) and `memberships` (`m`,
//! with the group `g`). Every value is a bind.

use scimgate_connectors::ResourceKind;

use super::dynsql::{like_escape, Bind, Sql};
use super::Dialect;
use crate::ids::DirectoryId;
use crate::scim::filter::{Cond, Field, MatchOp, Operand, OrderOp, Test};
use crate::scim::sort::SortKey;

/// SQL boolean expression over the alias `r` (the resource row) of a directory's
/// resources. Its shape comes from the request, so the statement is not kept prepared.
pub(crate) fn condition(cond: &Cond, dialect: Dialect, directory_id: &DirectoryId) -> Sql {
    Writer {
        dialect,
        directory_id,
    }
    .cond(cond, "a")
    .uncached()
}

struct Writer<'a> {
    dialect: Dialect,
    directory_id: &'a DirectoryId,
}

impl Writer<'_> {
    /// `cond`, its index fields on the row alias `alias`.
    fn cond(&self, cond: &Cond, alias: &str) -> Sql {
        match cond {
            Cond::Const(hit) => Sql::raw(if *hit { "1 = 1" } else { "1 = 0" }),
            Cond::Not(inner) => {
                let mut s = Sql::raw("NOT (");
                s.append(self.cond(inner, alias)).push(")");
                s
            }
            Cond::And(items) => self.join(items, " AND ", alias),
            Cond::Or(items) => self.join(items, " OR ", alias),
            Cond::Test(field, test) => self.test(&column(*field, alias), test),
            Cond::Membership {
                kind,
                cond,
                value_path,
            } => {
                let mut s = Sql::new();
                match (kind, value_path) {
                    (ResourceKind::User, false) => {
                        s.push("EXISTS (SELECT 1 FROM memberships m");
                        if matches!(**cond, Cond::Test(Field::GroupName, _)) {
                            s.push(" JOIN directory_groups g ON g.id = m.group_id");
                        }
                        s.push(" WHERE m.member_id = r.id AND ");
                    }
                    (ResourceKind::Group, false) => {
                        s.push("EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = r.id AND ");
                    }
                    (ResourceKind::Group, true) => {
                        s.push("EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = r.id AND (");
                    }
                    (ResourceKind::User, true) => {
                        s.push(
                            "EXISTS (SELECT 1 FROM memberships m JOIN directory_groups g ON g.id = m.group_id WHERE m.member_id = r.id AND (",
                        );
                    }
                }
                s.append(self.cond(cond, alias));
                s.push(if *value_path { "))" } else { ")" });
                s
            }
            Cond::Indexed {
                key,
                cond,
                value_path,
            } => {
                let mut s = Sql::new();
                s.push("r.id IN (SELECT a.user_id FROM user_attrs a WHERE a.directory_id = ")
                    .text(self.directory_id)
                    .push(" AND a.attr = ")
                    .text(key.clone())
                    .push(if *value_path { " AND (" } else { " AND " });
                s.append(self.cond(cond, "a"));
                s.push(if *value_path { "))" } else { ")" });
                s
            }
            Cond::Sibling { key, cond } => {
                let mut s = Sql::new();
                s.push("EXISTS (SELECT 1 FROM user_attrs b WHERE b.user_id = a.user_id AND b.elem = a.elem AND b.attr = ")
                    .text(key.clone())
                    .push(" AND ");
                s.append(self.cond(cond, "b"));
                s.push(")");
                s
            }
        }
    }

    fn join(&self, items: &[Cond], sep: &str, alias: &str) -> Sql {
        let mut s = Sql::raw("(");
        for (i, c) in items.iter().enumerate() {
            if i > 0 {
                s.push(sep);
            }
            s.push("(").append(self.cond(c, alias)).push(")");
        }
        s.push(")");
        s
    }

    /// A test of the column `col`; text is compared in code-point order on
    /// PostgreSQL (`COLLATE "C"`), as SQLite compares it.
    fn test(&self, col: &str, test: &Test) -> Sql {
        let mut s = Sql::new();
        match test {
            Test::NotEmpty => {
                s.push(format!("({col} IS NOT NULL AND {col} <> '')"));
            }
            Test::NotNull => {
                s.push(format!("{col} IS NOT NULL"));
            }
            Test::Null => {
                s.push(format!("{col} IS NULL"));
            }
            Test::Eq(v) => {
                s.push(format!("{col} = ")).bind(bind(v));
            }
            Test::Ne(v) => {
                s.push(format!("{col} <> ")).bind(bind(v));
            }
            Test::NeOrNull(v) => {
                s.push(format!("({col} IS NULL OR {col} <> "))
                    .bind(bind(v))
                    .push(")");
            }
            Test::Match {
                how,
                text,
                case_exact,
            } => {
                let sqlite = db_run!(self.dialect, pg => false, sqlite => true);
                if *case_exact && sqlite {
                    // SQLite's LIKE ignores ASCII case; GLOB is case-sensitive (caseExact).
                    let g = glob_escape(text);
                    let pat = match how {
                        MatchOp::Contains => format!("*{g}*"),
                        MatchOp::StartsWith => format!("{g}*"),
                        MatchOp::EndsWith => format!("*{g}"),
                    };
                    s.push(format!("{col} GLOB ")).text(pat);
                } else {
                    let e = like_escape(text);
                    let pat = match how {
                        MatchOp::Contains => format!("%{e}%"),
                        MatchOp::StartsWith => format!("{e}%"),
                        MatchOp::EndsWith => format!("%{e}"),
                    };
                    s.push(format!("{col} LIKE "))
                        .text(pat)
                        .push(" ESCAPE '\\'");
                }
            }
            Test::Order(op, v) => {
                let sym = match op {
                    OrderOp::Gt => ">",
                    OrderOp::Ge => ">=",
                    OrderOp::Lt => "<",
                    OrderOp::Le => "<=",
                };
                let coll = match v {
                    Operand::Text(_) => collate(self.dialect),
                    Operand::Bool(_) | Operand::Time(_) => "",
                };
                s.push(format!("{col}{coll} {sym} ")).bind(bind(v));
            }
        }
        s
    }
}

fn bind(v: &Operand) -> Bind {
    match v {
        Operand::Text(t) => Bind::Text(t.clone()),
        Operand::Bool(b) => Bind::Bool(*b),
        Operand::Time(t) => Bind::Timestamp(*t),
    }
}

/// The collation that compares text in code-point order.
fn collate(dialect: Dialect) -> &'static str {
    db_run!(dialect, pg => " COLLATE \"C\"", sqlite => "")
}

/// The column of a field; an index field on the row alias `alias`.
fn column(field: Field, alias: &str) -> String {
    match field {
        Field::Id => "r.id".into(),
        Field::ExternalId => "r.external_id".into(),
        Field::Created => "r.created_at".into(),
        Field::LastModified => "r.updated_at".into(),
        Field::UserName => "r.user_name_ci".into(),
        Field::Active => "r.active".into(),
        Field::DisplayName => "r.display_name_ci".into(),
        Field::MemberGroup => "m.group_id".into(),
        Field::Member => "m.member_id".into(),
        Field::MemberType => "m.member_type".into(),
        Field::GroupName => "g.display_name_ci".into(),
        Field::Value => format!("{alias}.value"),
        Field::ValueCi => format!("{alias}.value_ci"),
        Field::ValueType => format!("{alias}.vtype"),
        Field::ValuePrimary => format!("{alias}.vprimary"),
    }
}

/// The SQL of a sort key (RFC 7644 §3.4.2.3) over the resource row `r`: text in
/// code-point order, as filters compare it; a multi-valued attribute of a user by its
/// primary (else first) element.
pub(crate) fn sort_key(dialect: Dialect, key: &SortKey) -> Sql {
    let coll = collate(dialect);
    match key {
        SortKey::Field(f @ (Field::UserName | Field::ExternalId | Field::DisplayName)) => {
            Sql::raw(format!("{}{coll}", column(*f, "a")))
        }
        SortKey::Field(f) => Sql::raw(column(*f, "a")),
        SortKey::Attr(key) => {
            let mut q = Sql::raw(format!(
                "(SELECT a.value_ci{coll} FROM user_attrs a WHERE a.user_id = r.id AND a.attr = "
            ));
            q.text(key.clone())
                .push(" ORDER BY a.vprimary DESC, a.elem ASC LIMIT 1)");
            q
        }
    }
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
    use crate::error::CoreResult;
    use crate::scim::filter::{parse, resolve};

    fn sql_for(kind: ResourceKind, f: &str) -> CoreResult<String> {
        let d1 = DirectoryId::test("d1");
        Ok(condition(&resolve(kind, &parse(f)?)?, Dialect::Pg, &d1).render(Dialect::Pg))
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
