//! SCIM `sortBy` (RFC 7644 §3.4.2.3): which stored value a list page is sorted by,
//! written as SQL by `store::filter_sql::sort_key`.

use scimgate_connectors::ResourceKind;

use crate::error::{CoreError, CoreResult};
use crate::scim::filter::Field;
use crate::scim::{index, schema};

/// What a page is sorted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// A column of the resource's row.
    Field(Field),
    /// An attribute of the user's filter index, by its key (a multi-valued attribute:
    /// its primary, else first, element).
    Attr(String),
}

/// The sort key of users named by `sortBy` (trimmed).
pub fn user_sort_key(sort_by: &str) -> CoreResult<SortKey> {
    let lower = sort_by.to_ascii_lowercase();
    let lower = lower
        .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:")
        .unwrap_or(&lower)
        .to_string();
    Ok(match lower.as_str() {
        "id" => SortKey::Field(Field::Id),
        "username" => SortKey::Field(Field::UserName),
        "externalid" => SortKey::Field(Field::ExternalId),
        "meta.created" => SortKey::Field(Field::Created),
        "meta.lastmodified" => SortKey::Field(Field::LastModified),
        "active" => SortKey::Field(Field::Active),
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
            // multi-valued: sorted by the primary (else first) element (RFC 7644 §3.4.2.3)
            SortKey::Attr(key)
        }
    })
}

/// The sort key of groups named by `sortBy` (trimmed and lower-cased).
pub fn group_sort_key(sort_by: &str) -> CoreResult<SortKey> {
    let sb = sort_by
        .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:group:")
        .unwrap_or(sort_by);
    Ok(SortKey::Field(match sb {
        "id" => Field::Id,
        "displayname" => Field::DisplayName,
        "externalid" => Field::ExternalId,
        "meta.created" => Field::Created,
        "meta.lastmodified" => Field::LastModified,
        _ => {
            return Err(CoreError::invalid_value(format!(
                "cannot sort Groups by {sb:?}"
            )))
        }
    }))
}
