//! The filter index (`user_attrs`): one row per filterable scalar of a user's document
//! (`scim::index` decides the rows), so that filters never load a directory.

use diesel::prelude::*;

use super::dynsql::{Bind, Column, Sql};
use super::schema::user_attrs;
use super::AnyConn;
use crate::error::CoreResult;
use crate::ids::DirectoryUserId;
use crate::model::AttrRow;

pub(crate) const ATTR_INSERT_COLUMNS: &str =
    "user_id, directory_id, attr, elem, vtype, vprimary, value, value_ci";

/// The values of an index row, in the order of `ATTR_INSERT_COLUMNS`.
fn attr_values(r: &AttrRow) -> [Option<Bind>; 8] {
    [
        Some(Bind::Text(String::from(&r.user_id))),
        Some(Bind::Text(String::from(&r.directory_id))),
        Some(Bind::Text(r.attr.clone())),
        Some(Bind::BigInt(i64::from(r.elem))),
        r.vtype.clone().map(Bind::Text),
        r.vprimary.map(Bind::Bool),
        r.value.clone().map(Bind::Text),
        r.value_ci.clone().map(Bind::Text),
    ]
}

/// Index rows column by column (PostgreSQL arrays), in the order of `ATTR_INSERT_COLUMNS`.
pub(crate) fn attr_columns<'a>(
    rows: impl Iterator<Item = &'a AttrRow>,
) -> diesel::QueryResult<Vec<Column>> {
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

/// The multi-row INSERTs of index rows (≤ 400 rows each), run one by one (SQLite).
pub(crate) fn insert_each<'a>(
    c: &mut AnyConn,
    rows: impl Iterator<Item = &'a AttrRow>,
) -> CoreResult<()> {
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
    for q in out {
        q.execute(c)?;
    }
    Ok(())
}

/// Insert a user's index rows: one statement over `unnest` on PostgreSQL, multi-row
/// INSERTs on SQLite.
pub fn insert_user_attrs(c: &mut AnyConn, rows: &[AttrRow]) -> CoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    db_run!(c,
        pg => {
            let mut q = Sql::raw(format!(
                "INSERT INTO user_attrs ({ATTR_INSERT_COLUMNS}) SELECT * FROM "
            ));
            q.unnest(attr_columns(rows.iter())?);
            q.execute(c)?;
        },
        sqlite => insert_each(c, rows.iter())?,
    );
    Ok(())
}

/// Delete a user's index rows.
pub fn delete_user_attrs(c: &mut AnyConn, user_id: &DirectoryUserId) -> CoreResult<()> {
    diesel::delete(user_attrs::table.filter(user_attrs::user_id.eq(user_id))).execute(c)?;
    Ok(())
}
