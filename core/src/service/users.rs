//! SCIM Users of a directory: create, read, list, replace, patch, delete — each write
//! with its normalized events in the same transaction.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::{Map, Value};

use super::directory_user::{self as du, diff, normalize_user, with_previous};
use super::{batch, groups, Core, InactivePolicy, Scope, Write};
use crate::clock;
use crate::error::{CoreError, CoreResult, ScimType};
use crate::events::{self, EventSink};
use crate::ids;
use crate::json;
use crate::model::{AttrRow, DirectoryRow, UserRow};
use crate::scim::filter::{self, Translator};
use crate::scim::resource::Ref;
use crate::scim::{index, patch, schema};
use crate::store::dynsql::{Bind, Column, Sql};
use crate::store::schema::{directory_users, memberships, user_attrs};
use crate::store::{AnyConn, Dialect};
use scimgate_connectors::{normalize_patch, normalize_user_body, ResourceKind};

fn not_found(id: &str) -> CoreError {
    CoreError::not_found(format!("User {id} not found"))
}

pub fn find(conn: &mut AnyConn, directory_id: &str, id: &str) -> CoreResult<Option<UserRow>> {
    batch::settle(conn)?;
    Ok(directory_users::table
        .filter(directory_users::id.eq(id))
        .filter(directory_users::directory_id.eq(directory_id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// A user with the groups it belongs to (`groups` of its SCIM representation).
#[derive(Debug, Clone)]
pub struct WithGroups {
    pub row: UserRow,
    pub groups: Vec<Ref>,
}

/// How [`find_with_groups`] finds a user.
#[derive(Debug, Clone, Copy)]
pub enum UserKey<'a> {
    Id(&'a str),
    /// `userName`, lowercased (case-insensitive per RFC 7643 §4.1.1).
    UserNameCi(&'a str),
}

/// A row of [`users_with_groups`]: the user, and one group's id and name (NULLs for a
/// user in no group), decoded by position (`Sql::load_rows`).
type UserGroupRow = (UserRow, Option<String>, Option<String>);
type UserGroupSql = (
    directory_users::SqlType,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
);

/// A group's name by primary key, per membership row `m`.
const GROUP_NAME_OF_M: &str =
    "(SELECT x.display_name FROM directory_groups x WHERE x.id = m.group_id)";

/// `SELECT` users `r` with their groups, one row per membership (a user in no group:
/// one row with NULLs), ending in `WHERE `; the caller adds the condition on `r` and
/// [`USERS_WITH_GROUPS_ORDER`]. Every row of another table is read by index from the
/// user it belongs to, whatever plan is kept: on PostgreSQL the memberships come from a
/// LATERAL subquery (one probe of `memberships_member` per user) and a group's name
/// from a scalar subquery. As joins, a plan made before the tables had statistics (a
/// young database, estimating 244 users per userName) hashed every membership of
/// every directory per lookup: 140 ms per `userName eq` with 70,000 memberships.
/// SQLite's planner probes the same indexes from a plain join.
fn users_with_groups(dialect: Dialect) -> Sql {
    Sql::raw(match dialect {
        Dialect::Pg => format!(
            "SELECT {USER_COLUMNS}, g.group_id, g.group_name FROM directory_users r \
             LEFT JOIN LATERAL (SELECT m.group_id, {GROUP_NAME_OF_M} AS group_name \
             FROM memberships m WHERE m.member_id = r.id) g ON true WHERE "
        ),
        Dialect::Sqlite => format!(
            "SELECT {USER_COLUMNS}, m.group_id AS group_id, {GROUP_NAME_OF_M} AS group_name \
             FROM directory_users r LEFT JOIN memberships m ON m.member_id = r.id WHERE "
        ),
    })
}

const USERS_WITH_GROUPS_ORDER: &str = " ORDER BY r.id, group_id";

/// A user and its groups in one round trip.
pub fn find_with_groups(
    c: &mut AnyConn,
    directory_id: &str,
    key: UserKey<'_>,
) -> CoreResult<Option<WithGroups>> {
    batch::settle(c)?;
    // Each query names one unique key alone, so that exactly one index can serve it
    // whatever plan PostgreSQL keeps for the prepared statement (see migration
    // `username_index_first`); rows of another directory are dropped here.
    let mut q = users_with_groups(c.dialect());
    match key {
        UserKey::Id(id) => q.push("r.id = ").text(id),
        UserKey::UserNameCi(name) => q.push("r.user_name_ci = ").text(name),
    };
    q.push(USERS_WITH_GROUPS_ORDER);
    let found = q
        .load_rows::<UserGroupSql, UserGroupRow>(c)?
        .into_iter()
        .filter(|(user, _, _)| user.directory_id == directory_id)
        .collect();
    Ok(fold_groups(found).into_values().next())
}

/// Users and their groups from rows of [`users_with_groups`].
fn fold_groups(rows: Vec<UserGroupRow>) -> HashMap<String, WithGroups> {
    let mut out: HashMap<String, WithGroups> = HashMap::new();
    for (user, group_id, group_name) in rows {
        let entry = out.entry(user.id.clone()).or_insert_with(|| WithGroups {
            row: user,
            groups: Vec::new(),
        });
        if let (Some(id), Some(name)) = (group_id, group_name) {
            entry.groups.push(Ref {
                id,
                display: Some(name),
                kind: "Group",
            });
        }
    }
    out
}

/// Several users of a directory and their groups, by id (one query per 500).
pub fn find_many_with_groups(
    c: &mut AnyConn,
    directory_id: &str,
    ids: &[String],
) -> CoreResult<HashMap<String, WithGroups>> {
    batch::settle(c)?;
    let mut out = HashMap::with_capacity(ids.len());
    let dialect = c.dialect();
    for chunk in ids.chunks(500) {
        let mut q = users_with_groups(dialect);
        id_in(&mut q, dialect, "r.id", chunk);
        q.push(USERS_WITH_GROUPS_ORDER);
        out.extend(
            fold_groups(q.load_rows::<UserGroupSql, UserGroupRow>(c)?)
                .into_iter()
                .filter(|(_, u)| u.row.directory_id == directory_id),
        );
    }
    Ok(out)
}

/// `col` is one of `ids`: one array parameter on PostgreSQL (one statement text for
/// any count), an `IN` list padded to a power of two on SQLite.
pub(crate) fn id_in(q: &mut Sql, dialect: Dialect, col: &str, ids: &[String]) {
    match dialect {
        Dialect::Pg => q
            .push(format!("{col} = ANY("))
            .bind(Bind::Array(Column::Text(ids.to_vec())))
            .push("::text[])"),
        Dialect::Sqlite => q
            .push(format!("{col} IN ("))
            .list(groups::padded(ids))
            .push(")"),
    };
}

/// The user a write targets, with its groups (in a batch, the read-ahead copy): 404
/// when absent, 412 when `If-Match` does not match.
fn find_for_write_with_groups(
    c: &mut AnyConn,
    directory_id: &str,
    id: &str,
    if_match: Option<&str>,
) -> CoreResult<WithGroups> {
    let found = match batch::take_ahead(id) {
        Some(f) => f,
        None => find_with_groups(c, directory_id, UserKey::Id(id))?.ok_or_else(|| not_found(id))?,
    };
    Core::check_if_match(found.row.version, if_match)?;
    Ok(found)
}

/// The groups a user belongs to, for the SCIM `groups` attribute (each name by primary
/// key, see [`users_with_groups`]).
pub fn groups_of(conn: &mut AnyConn, user_ids: &[String]) -> CoreResult<Vec<(String, Ref)>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        member_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        group_id: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        group_name: Option<String>,
    }
    let dialect = conn.dialect();
    let mut out = Vec::new();
    for chunk in user_ids.chunks(500) {
        let mut q = Sql::raw(format!(
            "SELECT m.member_id, m.group_id, {GROUP_NAME_OF_M} AS group_name FROM memberships m WHERE "
        ));
        id_in(&mut q, dialect, "m.member_id", chunk);
        q.push(" ORDER BY m.member_id, m.group_id");
        out.extend(q.load::<Row>(conn)?.into_iter().filter_map(|r| {
            let display = Some(r.group_name?);
            Some((
                r.member_id,
                Ref {
                    id: r.group_id,
                    display,
                    kind: "Group",
                },
            ))
        }));
    }
    Ok(out)
}

/// Check a body's `id` against the URL's (IDP-QUIRKS REJECT: body id ≠ URL id).
pub(crate) fn check_body_id(body: &Value, id: &str) -> CoreResult<()> {
    match body.get("id") {
        Some(Value::String(s)) if s != id => Err(CoreError::mutability(format!(
            "`id` is readOnly: the body says {s:?} but the URL names {id:?}"
        ))),
        _ => Ok(()),
    }
}

fn doc_string<'a>(doc: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

fn active_of(doc: &Map<String, Value>) -> bool {
    doc.get("active").and_then(Value::as_bool).unwrap_or(true)
}

/// The primary email, lowercased, for the `(directory_id, email_ci)` index (not
/// indexed when too long for it).
fn email_ci(n: &Map<String, Value>) -> Option<String> {
    n.get("email")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
        .filter(|e| e.len() <= schema::MAX_IDENTIFIER_BYTES)
}

const ATTR_INSERT_COLUMNS: &str =
    "user_id, directory_id, attr, elem, vtype, vprimary, value, value_ci";
pub(crate) const USER_INSERT_COLUMNS: &str = "id, directory_id, user_name, user_name_ci, \
     external_id, active, email_ci, state, version, scim, normalized, created_at, updated_at";

/// The values of an index row, in the order of `ATTR_INSERT_COLUMNS`.
fn attr_values(r: &AttrRow) -> [Option<Bind>; 8] {
    [
        Some(Bind::Text(r.user_id.clone())),
        Some(Bind::Text(r.directory_id.clone())),
        Some(Bind::Text(r.attr.clone())),
        Some(Bind::BigInt(i64::from(r.elem))),
        r.vtype.clone().map(Bind::Text),
        r.vprimary.map(Bind::Bool),
        r.value.clone().map(Bind::Text),
        r.value_ci.clone().map(Bind::Text),
    ]
}

/// The values of a user row, in the order of `USER_INSERT_COLUMNS`.
fn user_values(row: &UserRow) -> [Option<Bind>; 13] {
    [
        Some(Bind::Text(row.id.clone())),
        Some(Bind::Text(row.directory_id.clone())),
        Some(Bind::Text(row.user_name.clone())),
        Some(Bind::Text(row.user_name_ci.clone())),
        row.external_id.clone().map(Bind::Text),
        Some(Bind::Bool(row.active)),
        row.email_ci.clone().map(Bind::Text),
        Some(Bind::Text(row.state.clone())),
        Some(Bind::BigInt(row.version)),
        Some(Bind::Text(row.scim.clone())),
        Some(Bind::Text(row.normalized.clone())),
        Some(Bind::Timestamp(row.created_at)),
        Some(Bind::Timestamp(row.updated_at)),
    ]
}

/// The multi-row INSERTs of index rows (≤ 400 rows each).
fn index_inserts<'a>(rows: impl Iterator<Item = &'a AttrRow>) -> Vec<Sql> {
    let mut out: Vec<Sql> = Vec::new();
    for (n, r) in rows.enumerate() {
        if n % 400 == 0 {
            out.push(Sql::raw(format!(
                "INSERT INTO user_attrs ({ATTR_INSERT_COLUMNS}) VALUES "
            )));
        } else if let Some(q) = out.last_mut() {
            q.push(", ");
        }
        if let Some(q) = out.last_mut() {
            q.tuple(attr_values(r), "NULL");
        }
    }
    out
}

fn write_index(c: &mut AnyConn, rows: &[AttrRow]) -> CoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    if c.dialect() == crate::store::Dialect::Pg {
        let mut q = Sql::raw(format!(
            "INSERT INTO user_attrs ({ATTR_INSERT_COLUMNS}) SELECT * FROM "
        ));
        q.unnest(attr_columns(rows.iter())?);
        q.execute(c)?;
        return Ok(());
    }
    for q in index_inserts(rows.iter()) {
        q.execute(c)?;
    }
    Ok(())
}

/// A new user with its index rows.
pub(crate) type NewUser = (UserRow, Vec<AttrRow>);

/// Insert new users and their index rows. On PostgreSQL users and index rows go in
/// one statement (a data-modifying CTE over `unnest` of one array per column): one
/// round trip, and one prepared statement, for a created user or a batch of them (see
/// `batch`). SQLite lists the rows as `VALUES`.
pub(crate) fn insert_users(c: &mut AnyConn, users: &[NewUser]) -> CoreResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    if c.dialect() == crate::store::Dialect::Pg {
        let mut q = Sql::raw("WITH ");
        q.append(insert_users_ctes(users, "")?).push(" SELECT 1");
        q.execute(c)?;
        return Ok(());
    }
    let mut q = Sql::raw(format!(
        "INSERT INTO directory_users ({USER_INSERT_COLUMNS}) VALUES "
    ));
    for (i, (row, _)) in users.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.tuple(user_values(row), "NULL");
    }
    if users.len() > 1 {
        q = q.uncached();
    }
    q.execute(c)?;
    for q in index_inserts(users.iter().flat_map(|(_, a)| a.iter())) {
        q.execute(c)?;
    }
    Ok(())
}

/// The inserts of created users and their index rows, as the data-modifying CTEs
/// `u AS (…), a AS (…)` of one PostgreSQL statement (see `insert_users`, and
/// `Core::commit_creates`, which adds the batch's events to the same statement);
/// `guard` ends each insert's `SELECT` (`events::AFTER_SEQ` there, else empty).
pub(crate) fn insert_users_ctes(users: &[NewUser], guard: &str) -> diesel::QueryResult<Sql> {
    let mut q = Sql::raw(format!(
        "u AS (INSERT INTO directory_users ({USER_INSERT_COLUMNS}) SELECT * FROM "
    ));
    q.unnest(user_columns(users.iter().map(|(u, _)| u))?)
        .push(guard)
        .push(format!(
            "), a AS (INSERT INTO user_attrs ({ATTR_INSERT_COLUMNS}) SELECT * FROM "
        ))
        .unnest(attr_columns(users.iter().flat_map(|(_, a)| a.iter()))?)
        .push(guard)
        .push(")");
    Ok(q)
}

/// User rows column by column (PostgreSQL arrays), in the order of `USER_INSERT_COLUMNS`.
pub(crate) fn user_columns<'a>(
    rows: impl Iterator<Item = &'a UserRow>,
) -> diesel::QueryResult<Vec<Column>> {
    let (text, opt) = (|| Column::Text(vec![]), || Column::OptText(vec![]));
    Column::transpose(
        rows.map(user_values),
        [
            text(),
            text(),
            text(),
            text(),
            opt(),
            Column::Bool(vec![]),
            opt(),
            text(),
            Column::BigInt(vec![]),
            text(),
            text(),
            Column::Timestamp(vec![]),
            Column::Timestamp(vec![]),
        ],
    )
}

/// Index rows column by column (PostgreSQL arrays), in the order of `ATTR_INSERT_COLUMNS`.
fn attr_columns<'a>(rows: impl Iterator<Item = &'a AttrRow>) -> diesel::QueryResult<Vec<Column>> {
    let (text, opt) = (|| Column::Text(vec![]), || Column::OptText(vec![]));
    Column::transpose(
        rows.map(attr_values),
        [
            text(),
            text(),
            text(),
            Column::BigInt(vec![]),
            opt(),
            Column::OptBool(vec![]),
            opt(),
            opt(),
        ],
    )
}

fn map_unique(e: CoreError, user_name: &str) -> CoreError {
    match e {
        CoreError::Db(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => CoreError::uniqueness(format!(
            "userName {user_name:?} is already taken in this directory"
        )),
        other => other,
    }
}

/// Parse, normalize (connector) and canonicalize (schema) a User body.
fn canonical_body(dir: &DirectoryRow, body: Value) -> CoreResult<Map<String, Value>> {
    let body = normalize_user_body(dir.dir_type(), body)?;
    let canon = schema::canonicalize(ResourceKind::User, body)?;
    Ok(canon.doc)
}

fn user_name_of(doc: &Map<String, Value>) -> CoreResult<String> {
    schema::check_identifiers(doc, &["userName", "externalId"])?;
    match doc_string(doc, "userName") {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(CoreError::bad(
            ScimType::InvalidValue,
            "`userName` is required",
        )),
    }
}

fn taken(
    c: &mut AnyConn,
    dir_id: &str,
    user_name_ci: &str,
    except: Option<&str>,
) -> CoreResult<bool> {
    batch::settle(c)?;
    // by the unique userName index alone (see `find_with_groups`)
    let holders: Vec<(String, String)> = directory_users::table
        .filter(directory_users::user_name_ci.eq(user_name_ci))
        .select((directory_users::id, directory_users::directory_id))
        .load(c)?;
    Ok(holders
        .iter()
        .any(|(id, d)| d == dir_id && Some(id.as_str()) != except))
}

pub fn create(core: &Core, dir: &DirectoryRow, body: Value) -> CoreResult<UserRow> {
    core.run(prepare_create(core, dir, body)?)
}

/// [`create`], checked and prepared (no database work) but not yet run.
pub fn prepare_create(core: &Core, dir: &DirectoryRow, body: Value) -> CoreResult<Write<UserRow>> {
    let mut doc = canonical_body(dir, body)?;
    let user_name = user_name_of(&doc)?;
    let active = active_of(&doc);
    doc.insert("active".into(), Value::Bool(active));
    let id = ids::new_id(ids::DIRECTORY_USER);
    let now = clock::now();
    let normalized = normalize_user(dir, &mut doc, &[], active);
    let row = UserRow {
        id: id.clone(),
        directory_id: dir.id.clone(),
        user_name_ci: user_name.to_lowercase(),
        user_name: user_name.clone(),
        external_id: doc_string(&doc, "externalId").map(str::to_string),
        active,
        email_ci: email_ci(&normalized),
        state: if active {
            "active".into()
        } else {
            "inactive".into()
        },
        version: 1,
        scim: json::text(&Value::Object(doc.clone())),
        normalized: json::text(&Value::Object(normalized)),
        created_at: now,
        updated_at: now,
    };
    let attrs = index::user_rows(&id, &dir.id, &doc);
    let policy = core.settings.inactive_users;
    let d = dir.clone();
    Ok(core.prepare(dir, Scope::User(None), move |c, sink| {
        let (dir, row) = (&d, &row);
        // the unique index (directory_id, user_name_ci) decides: one round trip less;
        // in a batch of user writes the insert joins the others' at its end
        if let Some(new) = batch::defer_insert((row.clone(), attrs.clone())) {
            insert_users(c, std::slice::from_ref(&new)).map_err(|e| map_unique(e, &user_name))?;
        }
        // Under the delete-inactive policy a user created inactive does not exist for the vendor.
        if active || policy == InactivePolicy::Keep {
            sink.emit_json(
                events::USER_CREATED,
                du::user_object_json(row, &dir.organization_id),
            );
        }
        Ok(row.clone())
    }))
}

/// A user and its groups.
pub fn get(core: &Core, dir: &DirectoryRow, id: &str) -> CoreResult<WithGroups> {
    let mut conn = core.db.conn()?;
    find_with_groups(&mut conn, &dir.id, UserKey::Id(id))?.ok_or_else(|| not_found(id))
}

#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub total: i64,
    pub start_index: i64,
    pub rows: Vec<T>,
    /// The users' groups when the query already read them (the `userName eq` path).
    pub groups: Option<Vec<(String, Ref)>>,
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Shared by users and groups: page bounds per RFC 7644 §3.4.2.4.
pub fn page_bounds(core: &Core, p: &ListParams) -> (i64, i64) {
    let start = p.start_index.unwrap_or(1).max(1);
    let max = core.settings.max_page_size;
    let count = p.count.unwrap_or(max).clamp(0, max);
    (start, count)
}

pub(crate) fn sort_order_desc(p: &ListParams) -> CoreResult<bool> {
    match p
        .sort_order
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("ascending") => Ok(false),
        Some("descending") => Ok(true),
        Some(other) => Err(CoreError::invalid_value(format!(
            "sortOrder must be \"ascending\" or \"descending\", not {other:?}"
        ))),
    }
}

/// The columns of `UserRow`, of a `directory_users r`.
pub(crate) const USER_COLUMNS: &str = "r.id, r.directory_id, r.user_name, r.user_name_ci, r.external_id, r.active, r.email_ci, r.state, r.version, r.scim, r.normalized, r.created_at, r.updated_at";

fn user_sort_key(dialect: crate::store::Dialect, sort_by: &str) -> CoreResult<Sql> {
    let coll = match dialect {
        crate::store::Dialect::Pg => " COLLATE \"C\"",
        crate::store::Dialect::Sqlite => "",
    };
    let lower = sort_by.to_ascii_lowercase();
    let lower = lower
        .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:")
        .unwrap_or(&lower)
        .to_string();
    Ok(match lower.as_str() {
        "id" => Sql::raw("r.id"),
        "username" => Sql::raw(format!("r.user_name_ci{coll}")),
        "externalid" => Sql::raw(format!("r.external_id{coll}")),
        "meta.created" => Sql::raw("r.created_at"),
        "meta.lastmodified" => Sql::raw("r.updated_at"),
        "active" => Sql::raw("r.active"),
        _ => {
            let path: scim_v2::filter::AttrPath =
                match format!("{sort_by} pr").parse::<scim_v2::filter::Filter>() {
                    Ok(scim_v2::filter::Filter::Attr(scim_v2::filter::AttrExp::Present(p))) => p,
                    _ => {
                        return Err(CoreError::invalid_value(format!(
                            "cannot sort by {sort_by:?}"
                        )))
                    }
                };
            let r = schema::lookup(
                ResourceKind::User,
                path.uri.as_deref(),
                &path.name,
                path.sub_attr.as_deref(),
            )
            .ok_or_else(|| {
                CoreError::invalid_value(format!("cannot sort by {sort_by:?}: unknown attribute"))
            })?;
            let is_ent = path
                .uri
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(schema::ENTERPRISE_USER_SCHEMA));
            let key_uri = if is_ent {
                Some(schema::ENTERPRISE_USER_SCHEMA)
            } else {
                None
            };
            let multi = r.attr.multi_valued;
            let key = match (multi, r.sub) {
                (true, Some(s))
                    if !index::HEAD_SUBS.contains(&s.name.to_ascii_lowercase().as_str()) =>
                {
                    index::key(key_uri, r.attr.name, Some(s.name))
                }
                (true, _) => index::key(key_uri, r.attr.name, None),
                (false, s) => index::key(key_uri, r.attr.name, s.map(|s| s.name)),
            };
            // multi-valued: sort by the primary (else first) element (RFC 7644 §3.4.2.3)
            let mut q = Sql::raw(format!(
                "(SELECT a.value_ci{coll} FROM user_attrs a WHERE a.user_id = r.id AND a.attr = "
            ));
            q.text(key)
                .push(" ORDER BY a.vprimary DESC, a.elem ASC LIMIT 1)");
            q
        }
    })
}

pub fn list(core: &Core, dir: &DirectoryRow, p: &ListParams) -> CoreResult<Listed<UserRow>> {
    let (start, count) = page_bounds(core, p);
    let mut conn = core.db.conn()?;
    let dialect = conn.dialect();
    let parsed = match p.filter.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(f) => Some(filter::parse(f)?),
        None => None,
    };
    // Fast path: `userName eq "x"` (Okta / Entra before every create) on the unique index.
    if let Some(scim_v2::filter::Filter::Attr(scim_v2::filter::AttrExp::Comparison(
        path,
        scim_v2::filter::CompareOp::Eq,
        scim_v2::filter::CompValue::Str(v),
    ))) = &parsed
    {
        let core_uri = path
            .uri
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(schema::USER_SCHEMA));
        if core_uri && path.sub_attr.is_none() && path.name.eq_ignore_ascii_case("userName") {
            // the user and its groups in one round trip
            let found =
                find_with_groups(&mut conn, &dir.id, UserKey::UserNameCi(&v.to_lowercase()))?;
            let total = i64::from(found.is_some());
            let mut groups = Vec::new();
            let row = found.map(|f| {
                groups.extend(f.groups.into_iter().map(|g| (f.row.id.clone(), g)));
                f.row
            });
            let rows = if start == 1 && count > 0 {
                row.into_iter().collect()
            } else {
                Vec::new()
            };
            return Ok(Listed {
                total,
                start_index: start,
                rows,
                groups: Some(groups),
            });
        }
    }
    let st = list_statements(dialect, dir, p, parsed.as_ref(), (start, count))?;
    run_list(&mut conn, st, |q, c| {
        q.load_rows::<directory_users::SqlType, UserRow>(c)
    })
}

/// The statements of a SCIM list page: the count of what the filter matches, the
/// page, the page's bounds (see [`page_bounds`]), and whether the page is a
/// directory's resources in id order (see `store::list_reads`).
pub(crate) struct ListStatements {
    pub count: Sql,
    pub page: Sql,
    pub start: i64,
    pub limit: i64,
    pub in_id_order: bool,
}

/// Run a list page's statements (`store::list_reads`): `totalResults`, then the rows (none
/// past the end or for `count=0`).
pub(crate) fn run_list<T>(
    conn: &mut AnyConn,
    st: ListStatements,
    load: impl FnOnce(&Sql, &mut AnyConn) -> diesel::QueryResult<Vec<T>>,
) -> CoreResult<Listed<T>> {
    crate::store::list_reads(conn, st.in_id_order, |c| {
        let total = st.count.load::<CountRow>(c)?.first().map_or(0, |r| r.n);
        let rows = if st.limit == 0 || st.start > total {
            Vec::new()
        } else {
            load(&st.page, c)?
        };
        Ok(Listed {
            total,
            start_index: st.start,
            rows,
            groups: None,
        })
    })
}

/// [`ListStatements`] for a page of a directory's users (`start`, `count`: see
/// [`page_bounds`]).
pub(crate) fn list_statements(
    dialect: Dialect,
    dir: &DirectoryRow,
    p: &ListParams,
    parsed: Option<&scim_v2::filter::Filter>,
    (start, count): (i64, i64),
) -> CoreResult<ListStatements> {
    let mut wher = Sql::raw(" FROM directory_users r WHERE r.directory_id = ");
    wher.text(dir.id.clone());
    if let Some(f) = parsed {
        let t = Translator::new(ResourceKind::User, dialect, &dir.id);
        wher.push(" AND (").append(t.translate(f)?).push(")");
    }
    let mut cq = Sql::raw("SELECT COUNT(*) AS n");
    cq.append(wher.clone());
    let mut q = Sql::raw(format!("SELECT {USER_COLUMNS}"));
    q.append(wher);
    let desc = sort_order_desc(p)?;
    let sort_by = p.sort_by.as_deref().filter(|s| !s.trim().is_empty());
    match sort_by {
        Some(sb) => {
            let key = user_sort_key(dialect, sb.trim())?;
            let dir_s = if desc { "DESC" } else { "ASC" };
            q.push(" ORDER BY CASE WHEN ")
                .append(key.clone())
                .push(" IS NULL THEN 1 ELSE 0 END, ");
            q.append(key).push(format!(" {dir_s}, r.id ASC"));
        }
        None => {
            q.push(" ORDER BY r.id ASC");
        }
    }
    q.push(" LIMIT ")
        .bind(Bind::BigInt(count))
        .push(" OFFSET ")
        .bind(Bind::BigInt(start - 1));
    Ok(ListStatements {
        count: cq,
        page: q,
        start,
        limit: count,
        in_id_order: parsed.is_none() && sort_by.is_none(),
    })
}

/// Apply a new document to an existing user: row, index, and the normalized diff
/// as events (no event when nothing normalized changed).
fn update_user(
    core: &Core,
    c: &mut AnyConn,
    sink: &mut EventSink,
    dir: &DirectoryRow,
    old: &UserRow,
    mut doc: Map<String, Value>,
) -> CoreResult<UserRow> {
    let user_name = user_name_of(&doc)?;
    let user_name_ci = user_name.to_lowercase();
    if user_name_ci != old.user_name_ci && taken(c, &dir.id, &user_name_ci, Some(&old.id))? {
        return Err(CoreError::uniqueness(format!(
            "userName {user_name:?} is already taken in this directory"
        )));
    }
    // `active` removed (RFC 7644 §3.5.2.2: unassigned) is not a reactivation: the
    // effective state stays what it was, and the representation omits it
    let active = match doc.get("active") {
        Some(Value::Bool(b)) => *b,
        _ => old.active,
    };
    let old_doc = du::user_doc(old);
    if old_doc == doc {
        return Ok(old.clone());
    }
    let old_norm = du::user_normalized(old);
    let roles = super::roles::roles_of(&old_norm);
    let new_norm = normalize_user(dir, &mut doc, &roles, active);
    let prev = diff(&old_norm, &new_norm);
    let now = clock::now();
    let row = UserRow {
        id: old.id.clone(),
        directory_id: old.directory_id.clone(),
        user_name: user_name.clone(),
        user_name_ci,
        external_id: doc_string(&doc, "externalId").map(str::to_string),
        active,
        email_ci: email_ci(&new_norm),
        state: if active {
            "active".into()
        } else {
            "inactive".into()
        },
        version: old.version + 1,
        scim: json::text(&Value::Object(doc.clone())),
        normalized: json::text(&Value::Object(new_norm)),
        created_at: old.created_at,
        updated_at: now,
    };
    // in a batch of user writes the row is written back with the others at its end
    if let Some(row) = batch::defer(row.clone()) {
        write_row(c, &row)?;
    }
    // the filter index changes only when an indexed attribute did (a deactivation
    // touches none: `active` is a column)
    let new_index = index::user_rows(&row.id, &dir.id, &doc);
    if new_index != index::user_rows(&old.id, &dir.id, &old_doc) {
        diesel::delete(user_attrs::table.filter(user_attrs::user_id.eq(&old.id))).execute(c)?;
        write_index(c, &new_index)?;
    }
    emit_update(core, sink, dir, old, &row, prev);
    Ok(row)
}

/// Write an updated user row (one prepared statement, see `Sql::update_by_id`).
fn write_row(c: &mut AnyConn, row: &UserRow) -> CoreResult<()> {
    let [_, _, user_name, user_name_ci, external_id, active, email_ci, state, version, scim, normalized, _, updated_at] =
        user_values(row);
    Sql::update_by_id(
        "directory_users",
        [
            ("user_name", user_name),
            ("user_name_ci", user_name_ci),
            ("external_id", external_id),
            ("active", active),
            ("email_ci", email_ci),
            ("state", state),
            ("version", version),
            ("scim", scim),
            ("normalized", normalized),
            ("updated_at", updated_at),
        ],
        &row.id,
    )
    .execute(c)
    .map_err(|e| map_unique(e.into(), &row.user_name))?;
    Ok(())
}

/// The events of a user update: `updated` with the previous values, or, under the
/// delete-inactive policy, `deleted` / `created` when the user leaves / comes back.
fn emit_update(
    core: &Core,
    sink: &mut EventSink,
    dir: &DirectoryRow,
    old: &UserRow,
    row: &UserRow,
    prev: Map<String, Value>,
) {
    if !prev.is_empty() {
        let policy = core.settings.inactive_users;
        match (policy, old.active, row.active) {
            // delete-inactive policy (WorkOS default for new environments): a leaver is
            // deleted for the vendor, a returning user created again
            (InactivePolicy::Delete, true, false) => {
                sink.emit(
                    events::USER_DELETED,
                    du::user_object(row, &dir.organization_id),
                );
            }
            (InactivePolicy::Delete, false, true) => {
                sink.emit(
                    events::USER_CREATED,
                    du::user_object(row, &dir.organization_id),
                );
            }
            (InactivePolicy::Delete, false, false) => {}
            _ => sink.emit(
                events::USER_UPDATED,
                with_previous(du::user_object(row, &dir.organization_id), prev),
            ),
        }
    }
}

/// PUT (RFC 7644 §3.5.1) with the gateway's choices: an omitted `externalId` is kept
/// (IDP-QUIRKS OKTA-PUT-DROPS-EXTERNALID) and an omitted `active` is left unchanged
/// (OKTA-PUT-DEACTIVATE).
pub fn replace(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<WithGroups> {
    core.run(prepare_replace(core, dir, id, body, if_match)?)
}

/// [`replace`], checked and prepared (no database work) but not yet run.
pub fn prepare_replace(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<Write<WithGroups>> {
    check_body_id(&body, id)?;
    let doc = canonical_body(dir, body)?;
    user_name_of(&doc)?;
    Ok(core.prepare_on(
        dir,
        Scope::User(Some(id.to_string())),
        id,
        if_match,
        move |core, c, sink, dir, id, if_match| {
            let mut doc = doc.clone();
            let WithGroups { row: old, groups } =
                find_for_write_with_groups(c, &dir.id, id, if_match)?;
            let old_doc = du::user_doc(&old);
            if !doc.contains_key("externalId") {
                if let Some(x) = old_doc.get("externalId") {
                    doc.insert("externalId".into(), x.clone());
                }
            }
            if !doc.contains_key("active") {
                doc.insert("active".into(), Value::Bool(old.active));
            }
            let row = update_user(core, c, sink, dir, &old, doc)?;
            Ok(WithGroups { row, groups })
        },
    ))
}

pub fn patch(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<WithGroups> {
    core.run(prepare_patch(core, dir, id, body, if_match)?)
}

/// [`patch`], checked and prepared (no database work) but not yet run.
pub fn prepare_patch(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> CoreResult<Write<WithGroups>> {
    let ops = normalize_patch(dir.dir_type(), ResourceKind::User, body)?;
    core.check_ops(&ops)?;
    Ok(core.prepare_on(
        dir,
        Scope::User(Some(id.to_string())),
        id,
        if_match,
        move |core, c, sink, dir, id, if_match| {
            let WithGroups { row: old, groups } =
                find_for_write_with_groups(c, &dir.id, id, if_match)?;
            let mut doc = du::user_doc(&old);
            let outcome = patch::apply_patch(ResourceKind::User, id, &mut doc, &ops)?;
            if !outcome.member_ops.is_empty() {
                return Err(CoreError::invalid_path("users have no `members`"));
            }
            let row = update_user(core, c, sink, dir, &old, doc)?;
            Ok(WithGroups { row, groups })
        },
    ))
}

pub fn delete(core: &Core, dir: &DirectoryRow, id: &str, if_match: Option<&str>) -> CoreResult<()> {
    core.run(prepare_delete(core, dir, id, if_match))
}

/// [`delete`], prepared but not yet run.
pub fn prepare_delete(
    core: &Core,
    dir: &DirectoryRow,
    id: &str,
    if_match: Option<&str>,
) -> Write<()> {
    let policy = core.settings.inactive_users;
    let scope = Scope::User(Some(id.to_string()));
    core.prepare_on(
        dir,
        scope,
        id,
        if_match,
        move |_, c, sink, dir, id, if_match| {
            // the user and its groups in one read (in a batch, the read-ahead copy)
            let WithGroups { row: old, groups } =
                find_for_write_with_groups(c, &dir.id, id, if_match)?;
            let visible = old.active || policy == InactivePolicy::Keep;
            // DELETE = user_removed for each membership, then user.deleted (PRODUCT.md)
            if visible && !groups.is_empty() {
                let group_ids: Vec<String> = groups.into_iter().map(|g| g.id).collect();
                let user_obj = du::user_object_json(&old, &dir.organization_id);
                for g in groups::find_many(c, &dir.id, &group_ids)? {
                    let group_obj = json::text(&du::group_object(&g, &dir.organization_id));
                    sink.emit_json(
                        events::GROUP_USER_REMOVED,
                        du::membership_payload_json(&dir.id, &user_obj, &group_obj),
                    );
                }
            }
            if let Some(id) = batch::defer_delete(old.id.clone()) {
                delete_rows(c, &[id])?;
            }
            if visible {
                sink.emit(
                    events::USER_DELETED,
                    du::user_object(&old, &dir.organization_id),
                );
            }
            Ok(())
        },
    )
}

/// Delete users with their filter-index rows and memberships: on PostgreSQL one
/// statement (the memberships and index rows as data-modifying CTEs, which always run
/// to completion), on SQLite a statement per table.
pub(crate) fn delete_rows(c: &mut AnyConn, ids: &[String]) -> CoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    if c.dialect() == Dialect::Pg {
        let ids = || Bind::Array(Column::Text(ids.to_vec()));
        let mut q = Sql::raw("WITH m AS (DELETE FROM memberships WHERE member_id = ANY(");
        q.bind(ids())
            .push("::text[])), a AS (DELETE FROM user_attrs WHERE user_id = ANY(")
            .bind(ids())
            .push("::text[])) DELETE FROM directory_users WHERE id = ANY(")
            .bind(ids())
            .push("::text[])");
        q.execute(c)?;
        return Ok(());
    }
    for chunk in ids.chunks(500) {
        diesel::delete(memberships::table.filter(memberships::member_id.eq_any(chunk)))
            .execute(c)?;
        diesel::delete(user_attrs::table.filter(user_attrs::user_id.eq_any(chunk))).execute(c)?;
        diesel::delete(directory_users::table.filter(directory_users::id.eq_any(chunk)))
            .execute(c)?;
    }
    Ok(())
}

/// A directory's users in id order after `after` (keyset paging of whole directories).
pub(crate) fn page_after(
    c: &mut AnyConn,
    directory_id: &str,
    after: &str,
    limit: i64,
) -> CoreResult<Vec<UserRow>> {
    batch::settle(c)?;
    Ok(directory_users::table
        .filter(directory_users::directory_id.eq(directory_id))
        .filter(directory_users::id.gt(after))
        .order(directory_users::id.asc())
        .limit(limit)
        .select(UserRow::as_select())
        .load(c)?)
}

/// Users of a directory by id (one query per 500), in the order given, skipping missing
/// ones. The query names ids only, so that the primary key is the one index it can use
/// (ids are unique across directories; another directory's user is dropped after):
/// with `directory_id = ?` beside it, and statistics not yet caught up with a directory
/// that just grew, PostgreSQL scanned the directory's users by another index.
pub fn find_many(c: &mut AnyConn, directory_id: &str, ids: &[String]) -> CoreResult<Vec<UserRow>> {
    batch::settle(c)?;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<UserRow> = directory_users::table
            .filter(directory_users::id.eq_any(chunk))
            .select(UserRow::as_select())
            .load(c)?;
        out.extend(rows.into_iter().filter(|u| u.directory_id == directory_id));
    }
    let pos: std::collections::HashMap<&String, usize> =
        ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
    out.sort_by_key(|r| pos.get(&r.id).copied().unwrap_or(usize::MAX));
    Ok(out)
}

/// Re-derive every user's normalized fields (after the directory's attribute mappings
/// changed), emitting `dsync.user.updated` for each user whose meaning changed.
pub(crate) fn renormalize_all(
    core: &Core,
    c: &mut AnyConn,
    dir: &DirectoryRow,
    sink: &mut EventSink,
) -> CoreResult<()> {
    let keep = core.settings.inactive_users == InactivePolicy::Keep;
    let mut after = String::new();
    loop {
        let rows = page_after(c, &dir.id, &after, 500)?;
        let Some(last) = rows.last() else { break };
        after = last.id.clone();
        for u in rows {
            let old = du::user_normalized(&u);
            let roles = super::roles::roles_of(&old);
            let new = normalize_user(dir, &mut du::user_doc(&u), &roles, u.active);
            let prev = diff(&old, &new);
            if prev.is_empty() {
                continue;
            }
            let now = clock::now();
            let row = UserRow {
                email_ci: email_ci(&new),
                normalized: json::text(&Value::Object(new)),
                updated_at: now,
                ..u
            };
            diesel::update(directory_users::table.filter(directory_users::id.eq(&row.id)))
                .set((
                    directory_users::normalized.eq(&row.normalized),
                    directory_users::email_ci.eq(&row.email_ci),
                    directory_users::updated_at.eq(now),
                ))
                .execute(c)?;
            if row.active || keep {
                sink.emit(
                    events::USER_UPDATED,
                    with_previous(du::user_object(&row, &dir.organization_id), prev),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Sql::load_rows` decodes users by position: `USER_COLUMNS` (what the hot reads
    /// select) must list the table's columns in the order of `UserRow`'s fields, which
    /// are the schema's (diesel's `Queryable` for the table).
    #[test]
    fn user_columns_follow_the_table() {
        let sql = diesel::debug_query::<diesel::pg::Pg, _>(
            &directory_users::table.select(directory_users::all_columns),
        )
        .to_string();
        let table: Vec<String> = sql
            .trim_start_matches("SELECT ")
            .split(" FROM")
            .next()
            .unwrap_or_default()
            .split(", ")
            .map(|c| c.replace("\"directory_users\".", "r.").replace('"', ""))
            .collect();
        let ours: Vec<&str> = USER_COLUMNS.split(", ").collect();
        assert_eq!(ours, table);
        assert_eq!(table.len(), 13);
    }
}
