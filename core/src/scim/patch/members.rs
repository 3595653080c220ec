//! PATCH operations on a Group's `members` (RFC 7644 §3.5.2; RFC 7643 §4.2). Membership never lives
//! in the stored document: each operation becomes a [`MemberOp`] for the store, which checks the ids
//! and never loads the group's member list.

use std::collections::HashSet;

use scim_v2::filter::{AttrExp, CompValue, CompareOp, ValFilter};
use serde_json::Value;

use super::engine::Ctx;
use super::MemberOp;
use crate::error::{CoreError, CoreResult, ScimType};
use crate::scim::schema::{no_nul_str, parse_member_list};

impl Ctx<'_> {
    /// `add` or `replace` of `members`: the new members, or the new full list.
    pub(super) fn set_members(
        &mut self,
        filter: Option<ValFilter>,
        sub: Option<String>,
        is_add: bool,
        value: Value,
    ) -> CoreResult<()> {
        if filter.is_some() || sub.is_some() {
            return Err(CoreError::invalid_path(
                "invalid path: a value filter or sub-attribute of 'members' is only supported by remove; add/replace take a list of members",
            ));
        }
        if value.is_null() {
            // Never wipe a group on an ambiguous null (NOPATH-REPLACE-MEMBERS-WIPE).
            return Ok(());
        }
        let refs = parse_member_list(value, "members")?;
        self.member_ops.push(if is_add {
            MemberOp::Add(refs)
        } else {
            MemberOp::Replace(refs)
        });
        Ok(())
    }

    /// `remove` of `members`: the filtered ids, the listed ones, or all of them.
    pub(super) fn remove_members(
        &mut self,
        filter: Option<ValFilter>,
        sub: Option<String>,
        value: Option<&Value>,
    ) -> CoreResult<()> {
        if sub.is_some() {
            return Err(CoreError::invalid_path(
                "invalid path: sub-attributes of 'members' cannot be removed; remove the member instead",
            ));
        }
        let op = match (filter, value) {
            // MEMBERS-FILTER-REMOVE
            (Some(f), _) => {
                let mut ids = Vec::new();
                member_filter_ids(&f, &mut ids)?;
                let mut seen = HashSet::with_capacity(ids.len());
                ids.retain(|id| seen.insert(id.clone()));
                MemberOp::Remove(ids)
            }
            // RFC 7644 §3.5.2.2: no filter, no value: all members.
            (None, None | Some(Value::Null)) => MemberOp::RemoveAll,
            // ENTRA-REMOVE-MEMBERS-VALUE: only the listed ones.
            (None, Some(v)) => MemberOp::Remove(
                parse_member_list(v.clone(), "members")?
                    .into_iter()
                    .map(|m| m.value)
                    .collect(),
            ),
        };
        self.member_ops.push(op);
        Ok(())
    }
}

/// Ids of `members[value eq "a" or value eq "b"]`; anything else is invalidFilter.
fn member_filter_ids(f: &ValFilter, out: &mut Vec<String>) -> CoreResult<()> {
    match f {
        ValFilter::Attr(AttrExp::Comparison(p, CompareOp::Eq, CompValue::Str(s)))
            if p.sub_attr.is_none() && p.name.eq_ignore_ascii_case("value") =>
        {
            if s.trim().is_empty() {
                return Err(CoreError::invalid_value(
                    "a member id in a 'members[value eq …]' filter must be non-empty",
                ));
            }
            no_nul_str(s, "members")?;
            out.push(s.clone());
            Ok(())
        }
        ValFilter::Or(items) => {
            for item in items.iter() {
                member_filter_ids(item, out)?;
            }
            Ok(())
        }
        other => Err(CoreError::bad(
            ScimType::InvalidFilter,
            format!(
                "unsupported filter on 'members': '{other}'; only 'value eq \"<id>\"' terms joined by 'or' are supported"
            ),
        )),
    }
}
