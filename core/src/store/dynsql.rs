//! Dynamic, fully parameterized SQL (for SCIM filters and list queries), rendered for
//! the connection's dialect. Values never enter the SQL text: every value is a bind.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, Bool, HasSqlType, Nullable, Text, Timestamp, Untyped};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::{AnyConn, Dialect};

#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Bool(bool),
    BigInt(i64),
    Timestamp(NaiveDateTime),
    /// PostgreSQL only: a whole column as one array, for `unnest($n::text[], …)`, so
    /// that a statement of any number of rows has one text and stays prepared.
    Array(Column),
}

/// A column of values bound as one PostgreSQL array (see [`Bind::Array`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Text(Vec<String>),
    OptText(Vec<Option<String>>),
    Bool(Vec<bool>),
    OptBool(Vec<Option<bool>>),
    BigInt(Vec<i64>),
    Timestamp(Vec<NaiveDateTime>),
}

impl Column {
    /// Texts (ids) as one column.
    pub fn text<I: AsRef<str>>(items: &[I]) -> Column {
        Column::Text(items.iter().map(|i| i.as_ref().to_owned()).collect())
    }

    /// Rows given value by value, in one column order (what [`Sql::tuple`] lists as
    /// `VALUES`), as one array per column for [`Sql::unnest`]: so that the statement
    /// of each dialect takes its column order from the same row values. `columns` are
    /// the empty typed columns; `None` is NULL. A value that does not fit its column
    /// (another type, or NULL where the column has none) is an error.
    pub fn transpose<const N: usize>(
        rows: impl IntoIterator<Item = [Option<Bind>; N]>,
        mut columns: [Column; N],
    ) -> QueryResult<Vec<Column>> {
        for row in rows {
            for (col, v) in columns.iter_mut().zip(row) {
                col.push(v)?;
            }
        }
        Ok(columns.into())
    }

    fn push(&mut self, v: Option<Bind>) -> QueryResult<()> {
        match (self, v) {
            (Column::Text(c), Some(Bind::Text(s))) => c.push(s),
            (Column::OptText(c), Some(Bind::Text(s))) => c.push(Some(s)),
            (Column::OptText(c), None) => c.push(None),
            (Column::Bool(c), Some(Bind::Bool(b))) => c.push(b),
            (Column::OptBool(c), Some(Bind::Bool(b))) => c.push(Some(b)),
            (Column::OptBool(c), None) => c.push(None),
            (Column::BigInt(c), Some(Bind::BigInt(n))) => c.push(n),
            (Column::Timestamp(c), Some(Bind::Timestamp(t))) => c.push(t),
            (c, v) => {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!("{v:?} does not fit a column of {}", c.sql_type()).into(),
                ))
            }
        }
        Ok(())
    }

    /// The array type to cast the parameter to in SQL (`$n::text[]`).
    pub fn sql_type(&self) -> &'static str {
        match self {
            Column::Text(_) | Column::OptText(_) => "text[]",
            Column::Bool(_) | Column::OptBool(_) => "boolean[]",
            Column::BigInt(_) => "bigint[]",
            Column::Timestamp(_) => "timestamp[]",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Sql(String),
    Bind(Bind),
}

/// A SQL text with interleaved binds; `?` placeholders are emitted per dialect.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    parts: Vec<Part>,
    cacheable: bool,
}

impl Default for Sql {
    fn default() -> Self {
        Sql::new()
    }
}

impl Sql {
    pub fn new() -> Self {
        Sql {
            parts: Vec::new(),
            cacheable: true,
        }
    }
    pub fn raw(s: impl Into<String>) -> Self {
        let mut q = Sql::new();
        q.push(s.into());
        q
    }
    /// Append SQL text (a `&str` is copied only into a new part, never allocated first).
    pub fn push<'s>(&mut self, s: impl Into<std::borrow::Cow<'s, str>>) -> &mut Self {
        let s = s.into();
        if let Some(Part::Sql(last)) = self.parts.last_mut() {
            last.push_str(&s);
        } else {
            self.parts.push(Part::Sql(s.into_owned()));
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
    /// `UPDATE table SET column = value, … WHERE id = id`, a `None` value written as
    /// the literal `NULL`: one statement text per pattern of NULLs, each prepared once
    /// (diesel's own `update().set()` statements are never prepared: parsed and planned
    /// on every write).
    pub fn update_by_id(
        table: &str,
        sets: impl IntoIterator<Item = (&'static str, Option<Bind>)>,
        id: impl AsRef<str>,
    ) -> Sql {
        let mut q = Sql::raw(format!("UPDATE {table} SET "));
        for (i, (column, value)) in sets.into_iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push(column).push(" = ");
            match value {
                Some(b) => q.bind(b),
                None => q.push("NULL"),
            };
        }
        q.push(" WHERE id = ").text(id.as_ref());
        q
    }
    /// `$1, $2, …`: one text bind per item (an `IN` list).
    pub fn list<'a, I: AsRef<str> + 'a>(
        &mut self,
        items: impl IntoIterator<Item = &'a I>,
    ) -> &mut Self {
        for (i, v) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.text(v.as_ref());
        }
        self
    }
    /// `unnest($1::text[], $2::bigint[], …)`: rows given column by column (PostgreSQL).
    pub fn unnest(&mut self, columns: Vec<Column>) -> &mut Self {
        self.push("unnest(");
        for (i, c) in columns.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            let ty = c.sql_type();
            self.bind(Bind::Array(c)).push("::").push(ty);
        }
        self.push(")")
    }
    pub fn append(&mut self, other: Sql) -> &mut Self {
        self.cacheable &= other.cacheable;
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
    /// A row of a `VALUES` list: `(v1, v2, …)`, each value a bind and each `None` the
    /// literal `null` (`NULL`, or a typed `NULL::text` where the context needs a type).
    pub fn tuple(
        &mut self,
        values: impl IntoIterator<Item = Option<Bind>>,
        null: &str,
    ) -> &mut Self {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            match v {
                Some(b) => self.bind(b),
                None => self.push(null),
            };
        }
        self.push(")")
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
                    db_run!(dialect,
                        pg => {
                            out.push('$');
                            out.push_str(&n.to_string());
                        },
                        sqlite => out.push('?'),
                    );
                }
            }
        }
        out
    }

    /// Mark the statement as one not to keep prepared (its shape depends on user
    /// input, e.g. a SCIM filter), so the per-connection statement cache stays bounded.
    pub fn uncached(mut self) -> Self {
        self.cacheable = false;
        self
    }

    /// Run as a query returning rows.
    pub fn load<T>(&self, conn: &mut AnyConn) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
    {
        db_run!(conn, |c| Q(self).load::<T>(c))
    }

    /// Load rows of SQL type `ST` decoded by position: the selected columns must come
    /// in `T`'s field order (for [`UserRow`](crate::model::UserRow): the table's, as
    /// `store::users::USER_COLUMNS` lists them). [`Sql::load`] finds each field by its column
    /// name, a search over the row's columns per field; for the 100 users a membership
    /// PATCH reads that search was an eighth of the server's instructions.
    pub fn load_rows<ST, T>(&self, conn: &mut AnyConn) -> QueryResult<Vec<T>>
    where
        for<'q> Typed<'q, ST>: diesel::query_dsl::LoadQuery<'q, diesel::PgConnection, T>
            + diesel::query_dsl::LoadQuery<'q, diesel::SqliteConnection, T>,
    {
        let q = Typed::<ST>(Q(self), std::marker::PhantomData);
        db_run!(conn, |c| q.load::<T>(c))
    }

    /// Run as a statement, returning the number of affected rows.
    pub fn execute(&self, conn: &mut AnyConn) -> QueryResult<usize> {
        db_run!(conn, |c| Q(self).execute(c))
    }
}

/// The query diesel runs. Unlike `sql_query`, it lets diesel keep the prepared
/// statement (keyed by its SQL text) unless the `Sql` was marked `uncached`, so hot
/// write statements are parsed and planned once per connection.
struct Q<'a>(&'a Sql);

impl QueryId for Q<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Q<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Q<'_> {}

/// [`Q`] with the SQL type of its rows, for [`Sql::load_rows`].
pub struct Typed<'a, ST>(Q<'a>, std::marker::PhantomData<ST>);

impl<ST> QueryId for Typed<'_, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST> Query for Typed<'_, ST> {
    type SqlType = ST;
}

impl<ST, DB: Backend> QueryFragment<DB> for Typed<'_, ST>
where
    for<'x> Q<'x>: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

impl<ST, Conn> RunQueryDsl<Conn> for Typed<'_, ST> {}

/// How a backend binds a [`Column`]: as an array on PostgreSQL; SQLite has no arrays
/// (its statements list rows as `VALUES` instead).
trait ArrayBinds: Backend + Sized {
    fn push_column<'b>(out: &mut AstPass<'_, 'b, Self>, c: &'b Column) -> QueryResult<()>;
}

impl ArrayBinds for Pg {
    fn push_column<'b>(out: &mut AstPass<'_, 'b, Pg>, c: &'b Column) -> QueryResult<()> {
        match c {
            Column::Text(_) => out.push_bind_param::<Array<Text>, _>(c),
            Column::OptText(_) => out.push_bind_param::<Array<Nullable<Text>>, _>(c),
            Column::Bool(_) => out.push_bind_param::<Array<Bool>, _>(c),
            Column::OptBool(_) => out.push_bind_param::<Array<Nullable<Bool>>, _>(c),
            Column::BigInt(_) => out.push_bind_param::<Array<BigInt>, _>(c),
            Column::Timestamp(_) => out.push_bind_param::<Array<Timestamp>, _>(c),
        }
    }
}

type EncodeError = Box<dyn std::error::Error + Send + Sync>;

/// PostgreSQL's epoch for `timestamp` in binary form: 2000-01-01 00:00:00.
fn pg_epoch() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

impl Column {
    /// The column in PostgreSQL's binary array format (`array_recv`: dimensions,
    /// flags, element type, length, lower bound, then each element as a length and
    /// its bytes, -1 for NULL), written into one buffer of the exact size. Diesel's
    /// generic array encoding writes each element through a scratch buffer in small
    /// writes that grow the bind buffer step by step; for the arrays of a write batch
    /// (a PATCH of 100 members binds 100 event payloads) that copying showed in
    /// profiles as a tenth of the server's instructions.
    fn pg_array(&self) -> Result<Vec<u8>, EncodeError> {
        // element type OIDs, pg_type.dat: text 25, bool 16, int8 20, timestamp 1114
        let (oid, len, size) = match self {
            Column::Text(v) => (25u32, v.len(), v.iter().map(|s| 4 + s.len()).sum()),
            Column::OptText(v) => (
                25,
                v.len(),
                v.iter()
                    .map(|s| 4 + s.as_ref().map_or(0, String::len))
                    .sum(),
            ),
            Column::Bool(v) => (16, v.len(), v.len() * 5),
            Column::OptBool(v) => (
                16,
                v.len(),
                v.iter().map(|b| 4 + usize::from(b.is_some())).sum(),
            ),
            Column::BigInt(v) => (20, v.len(), v.len() * 12),
            Column::Timestamp(v) => (1114, v.len(), v.len() * 12),
        };
        let mut b = Vec::with_capacity(20 + size);
        b.extend_from_slice(&1i32.to_be_bytes()); // one dimension
        b.extend_from_slice(&0i32.to_be_bytes()); // flags
        b.extend_from_slice(&oid.to_be_bytes());
        b.extend_from_slice(&i32::try_from(len)?.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes()); // lower bound

        // an element: its length and bytes, or -1 for NULL
        let elem = |b: &mut Vec<u8>, v: Option<&[u8]>| -> Result<(), EncodeError> {
            match v {
                Some(v) => {
                    b.extend_from_slice(&i32::try_from(v.len())?.to_be_bytes());
                    b.extend_from_slice(v);
                }
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
            }
            Ok(())
        };
        match self {
            Column::Text(v) => v
                .iter()
                .try_for_each(|s| elem(&mut b, Some(s.as_bytes())))?,
            Column::OptText(v) => v
                .iter()
                .try_for_each(|s| elem(&mut b, s.as_deref().map(str::as_bytes)))?,
            Column::Bool(v) => v
                .iter()
                .try_for_each(|x| elem(&mut b, Some(&[u8::from(*x)])))?,
            Column::OptBool(v) => v.iter().try_for_each(|x| {
                elem(&mut b, x.map(u8::from).as_ref().map(std::slice::from_ref))
            })?,
            Column::BigInt(v) => v
                .iter()
                .try_for_each(|n| elem(&mut b, Some(&n.to_be_bytes())))?,
            Column::Timestamp(v) => v.iter().try_for_each(|t| {
                let micros = t
                    .signed_duration_since(pg_epoch())
                    .num_microseconds()
                    .ok_or_else(|| format!("{t:?} as microseconds does not fit an i64"))?;
                elem(&mut b, Some(&micros.to_be_bytes()))
            })?,
        }
        Ok(b)
    }

    fn write_pg_array(
        &self,
        out: &mut diesel::serialize::Output<'_, '_, Pg>,
    ) -> diesel::serialize::Result {
        use std::io::Write;
        out.write_all(&self.pg_array()?)?;
        Ok(diesel::serialize::IsNull::No)
    }
}

/// One `ToSql` per array type a [`Column`] binds as (see `ArrayBinds for Pg`); each
/// writes the column's own variant.
macro_rules! column_to_sql {
    ($($st:ty),*) => {$(
        impl ToSql<$st, Pg> for Column {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, Pg>) -> diesel::serialize::Result {
                self.write_pg_array(out)
            }
        }
    )*};
}
column_to_sql!(
    Array<Text>,
    Array<Nullable<Text>>,
    Array<Bool>,
    Array<Nullable<Bool>>,
    Array<BigInt>,
    Array<Timestamp>
);

impl ArrayBinds for Sqlite {
    fn push_column<'b>(_: &mut AstPass<'_, 'b, Sqlite>, _: &'b Column) -> QueryResult<()> {
        Err(diesel::result::Error::QueryBuilderError(
            "array parameters exist on PostgreSQL only".into(),
        ))
    }
}

impl<DB> QueryFragment<DB> for Q<'_>
where
    DB: Backend
        + ArrayBinds
        + HasSqlType<Text>
        + HasSqlType<Bool>
        + HasSqlType<BigInt>
        + HasSqlType<Timestamp>,
    String: ToSql<Text, DB>,
    bool: ToSql<Bool, DB>,
    i64: ToSql<BigInt, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.0.cacheable {
            out.unsafe_to_cache_prepared();
        }
        for p in &self.0.parts {
            match p {
                Part::Sql(s) => out.push_sql(s),
                Part::Bind(Bind::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                Part::Bind(Bind::Bool(v)) => out.push_bind_param::<Bool, _>(v)?,
                Part::Bind(Bind::BigInt(v)) => out.push_bind_param::<BigInt, _>(v)?,
                Part::Bind(Bind::Timestamp(v)) => out.push_bind_param::<Timestamp, _>(v)?,
                Part::Bind(Bind::Array(c)) => DB::push_column(&mut out, c)?,
            }
        }
        Ok(())
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

/// The strings that start with `prefix`, as a half-open range `[low, high)` in
/// code-point order: the order of SQLite's BINARY collation and of PostgreSQL's "C"
/// collation, which both compare UTF-8 bytes. `high` is `prefix` with its last
/// character that can be raised raised by one (and what followed it cut off); `None`
/// when every character is U+10FFFF (no upper bound). Unlike `LIKE 'p%'`, a range of
/// bound parameters is served by a B-tree index in a generic (prepared) plan too.
pub fn prefix_range(prefix: &str) -> (String, Option<String>) {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 + 1 {
            // the surrogates are not characters: the one after U+D7FF is U+E000
            0xD800 => Some('\u{E000}'),
            n => char::from_u32(n),
        };
        if let Some(n) = next {
            chars.push(n);
            return (prefix.to_string(), Some(chars.into_iter().collect()));
        }
    }
    (prefix.to_string(), None)
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
    fn update_by_id_binds_values_and_writes_none_as_null() {
        let q = Sql::update_by_id(
            "t",
            [
                ("a", Some(Bind::Text("x".into()))),
                ("b", None),
                ("c", Some(Bind::BigInt(3))),
            ],
            "id1",
        );
        assert_eq!(
            q.render(Dialect::Pg),
            "UPDATE t SET a = $1, b = NULL, c = $2 WHERE id = $3"
        );
        assert_eq!(q.bind_count(), 3);
        assert!(q.cacheable, "prepared once per text");
    }

    #[test]
    fn tuple_binds_values_and_writes_nulls() {
        let mut q = Sql::raw("VALUES ");
        q.tuple(
            [Some(Bind::Text("a".into())), None, Some(Bind::BigInt(1))],
            "NULL::text",
        );
        assert_eq!(q.render(Dialect::Pg), "VALUES ($1, NULL::text, $2)");
        assert_eq!(q.bind_count(), 2);
    }

    #[test]
    fn transpose_turns_rows_into_typed_columns_and_refuses_misfits() {
        let rows = [
            [Some(Bind::Text("a".into())), None, Some(Bind::BigInt(1))],
            [
                Some(Bind::Text("b".into())),
                Some(Bind::Text("x".into())),
                Some(Bind::BigInt(2)),
            ],
        ];
        let cols = Column::transpose(
            rows.clone(),
            [
                Column::Text(vec![]),
                Column::OptText(vec![]),
                Column::BigInt(vec![]),
            ],
        );
        assert_eq!(
            cols.ok(),
            Some(vec![
                Column::Text(vec!["a".into(), "b".into()]),
                Column::OptText(vec![None, Some("x".into())]),
                Column::BigInt(vec![1, 2]),
            ])
        );
        // NULL in a column without NULLs, and a value of another type
        let null = Column::transpose(
            rows.clone(),
            [
                Column::Text(vec![]),
                Column::Text(vec![]),
                Column::BigInt(vec![]),
            ],
        );
        assert!(null.is_err());
        let typ = Column::transpose(
            rows,
            [
                Column::Text(vec![]),
                Column::OptText(vec![]),
                Column::Bool(vec![]),
            ],
        );
        assert!(typ.is_err());
    }

    #[test]
    fn like_escape_escapes_wildcards() {
        assert_eq!(like_escape(r"50%_off\"), r"50\%\_off\\");
    }

    #[test]
    fn prefix_range_bounds_exactly_the_strings_with_the_prefix() {
        let (low, high) = prefix_range("wil");
        let high = high.unwrap_or_default();
        assert_eq!((low.as_str(), high.as_str()), ("wil", "wim"));
        for s in ["wil", "william", "wil\u{10FFFF}\u{10FFFF}", "wil%"] {
            assert!(low.as_str() <= s && s < high.as_str(), "{s}");
        }
        for s in ["wik", "wim", "wi", "wjl", "x"] {
            assert!(!(low.as_str() <= s && s < high.as_str()), "{s}");
        }
        // Rust compares str by UTF-8 bytes: the order the range is meant for
        assert_eq!(prefix_range("a\u{D7FF}").1.as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_range("ab\u{10FFFF}").1.as_deref(), Some("ac"));
        assert_eq!(prefix_range("\u{10FFFF}").1, None);
        assert_eq!(prefix_range("é").1.as_deref(), Some("ê"));
    }
}
