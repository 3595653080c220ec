//! Dynamic, fully parameterized SQL (for SCIM filters and list queries), rendered for
//! the connection's dialect. Values never enter the SQL text: every value is a bind.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::{AnyConn, Dialect};

#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Bool(bool),
    BigInt(i64),
    Timestamp(NaiveDateTime),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Sql(String),
    Bind(Bind),
}

/// A SQL text with interleaved binds; `?` placeholders are emitted per dialect.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sql {
    parts: Vec<Part>,
}

impl Sql {
    pub fn new() -> Self {
        Sql { parts: Vec::new() }
    }
    pub fn raw(s: impl Into<String>) -> Self {
        let mut q = Sql::new();
        q.push(s);
        q
    }
    pub fn push(&mut self, s: impl Into<String>) -> &mut Self {
        let s = s.into();
        if let Some(Part::Sql(last)) = self.parts.last_mut() {
            last.push_str(&s);
        } else {
            self.parts.push(Part::Sql(s));
        }
        self
    }
    pub fn bind(&mut self, b: Bind) -> &mut Self {
        self.parts.push(Part::Bind(b));
        self
    }
    pub fn text(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Bind::Text(s.into()))
    }
    pub fn append(&mut self, other: Sql) -> &mut Self {
        for p in other.parts {
            match p {
                Part::Sql(s) => {
                    self.push(s);
                }
                Part::Bind(b) => {
                    self.bind(b);
                }
            }
        }
        self
    }
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
    pub fn bind_count(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| matches!(p, Part::Bind(_)))
            .count()
    }

    /// The SQL text for a dialect (PostgreSQL `$n`, SQLite `?`).
    pub fn render(&self, dialect: Dialect) -> String {
        let mut out = String::new();
        let mut n = 0;
        for p in &self.parts {
            match p {
                Part::Sql(s) => out.push_str(s),
                Part::Bind(_) => {
                    n += 1;
                    match dialect {
                        Dialect::Pg => {
                            out.push('$');
                            out.push_str(&n.to_string());
                        }
                        Dialect::Sqlite => out.push('?'),
                    }
                }
            }
        }
        out
    }

    fn binds(&self) -> impl Iterator<Item = &Bind> {
        self.parts.iter().filter_map(|p| match p {
            Part::Bind(b) => Some(b),
            Part::Sql(_) => None,
        })
    }

    /// Run as a query returning rows.
    pub fn load<T>(&self, conn: &mut AnyConn) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
    {
        match conn {
            AnyConn::Pg(c) => {
                let q = self.boxed_pg();
                q.load::<T>(c)
            }
            AnyConn::Sqlite(c) => {
                let q = self.boxed_sqlite();
                q.load::<T>(c)
            }
        }
    }

    /// Run as a statement, returning the number of affected rows.
    pub fn execute(&self, conn: &mut AnyConn) -> QueryResult<usize> {
        match conn {
            AnyConn::Pg(c) => self.boxed_pg().execute(c),
            AnyConn::Sqlite(c) => self.boxed_sqlite().execute(c),
        }
    }

    fn boxed_pg(&self) -> BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery> {
        let mut q = diesel::sql_query(self.render(Dialect::Pg)).into_boxed::<Pg>();
        for b in self.binds() {
            q = match b.clone() {
                Bind::Text(s) => q.bind::<Text, _>(s),
                Bind::Bool(v) => q.bind::<Bool, _>(v),
                Bind::BigInt(v) => q.bind::<BigInt, _>(v),
                Bind::Timestamp(v) => q.bind::<Timestamp, _>(v),
            };
        }
        q
    }

    fn boxed_sqlite(&self) -> BoxedSqlQuery<'static, Sqlite, diesel::query_builder::SqlQuery> {
        let mut q = diesel::sql_query(self.render(Dialect::Sqlite)).into_boxed::<Sqlite>();
        for b in self.binds() {
            q = match b.clone() {
                Bind::Text(s) => q.bind::<Text, _>(s),
                Bind::Bool(v) => q.bind::<Bool, _>(v),
                Bind::BigInt(v) => q.bind::<BigInt, _>(v),
                Bind::Timestamp(v) => q.bind::<Timestamp, _>(v),
            };
        }
        q
    }
}

/// Escape `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_per_dialect() {
        let mut q = Sql::raw("SELECT 1 WHERE a = ");
        q.text("x").push(" AND b = ").bind(Bind::BigInt(2));
        assert_eq!(q.render(Dialect::Pg), "SELECT 1 WHERE a = $1 AND b = $2");
        assert_eq!(q.render(Dialect::Sqlite), "SELECT 1 WHERE a = ? AND b = ?");
        assert_eq!(q.bind_count(), 2);
    }

    #[test]
    fn like_escape_escapes_wildcards() {
        assert_eq!(like_escape(r"50%_off\"), r"50\%\_off\\");
    }
}
