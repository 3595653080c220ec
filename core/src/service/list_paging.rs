//! What list pages mean, shared by the SCIM lists (`startIndex`/`count`, RFC 7644
//! §3.4.2.4, with `filter` and `sortBy`) and the vendor API's lists (WorkOS cursors
//! over the prefixed ULID ids, WIRE-COMPAT.md §1: keyset pagination, so page 10,000
//! costs what page 1 costs). The SQL of a page is `store::paging`'s.

use scim_v2::filter::Filter;
use scimgate_connectors::ResourceKind;

use super::Core;
use crate::error::{CoreError, CoreResult};
use crate::ids::DirectoryUserId;
use crate::model::Ref;
use crate::scim::{filter, sort};
use crate::store::paging::{Keyset, ScimPage};

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
    pub groups: Option<Vec<(DirectoryUserId, Ref)>>,
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

/// A SCIM page of `kind` as the store reads it: the filter (`parsed`, or parsed from
/// `p` for groups) resolved, the sort order and key checked (`start`, `count`: see
/// [`page_bounds`]).
pub(crate) fn scim_page(
    kind: ResourceKind,
    p: &ListParams,
    parsed: Option<&Filter>,
    (start, count): (i64, i64),
) -> CoreResult<ScimPage> {
    let filter = match kind {
        ResourceKind::User => parsed.map(|f| filter::resolve(kind, f)).transpose()?,
        ResourceKind::Group => match p.filter.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(f) => Some(filter::resolve(kind, &filter::parse(f)?)?),
            None => None,
        },
    };
    let descending = sort_order_desc(p)?;
    let sort = match kind {
        ResourceKind::User => p
            .sort_by
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|sb| sort::user_sort_key(sb.trim()))
            .transpose()?,
        ResourceKind::Group => p
            .sort_by
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .map(|sb| sort::group_sort_key(&sb))
            .transpose()?,
    };
    Ok(ScimPage {
        filter,
        sort,
        descending,
        start,
        count,
    })
}

/// WorkOS `order`: `desc` (default), `asc`, or `normal` ("descending with reversed
/// cursor semantics where before fetches older records and after fetches newer").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    Desc,
    Asc,
    Normal,
}

impl ListOrder {
    pub fn parse(s: Option<&str>) -> CoreResult<ListOrder> {
        match s.map(str::trim) {
            None | Some("") | Some("desc") => Ok(ListOrder::Desc),
            Some("asc") => Ok(ListOrder::Asc),
            Some("normal") => Ok(ListOrder::Normal),
            Some(other) => Err(CoreError::invalid_value(format!(
                "order must be one of asc, desc, normal; got {other:?}"
            ))),
        }
    }
    fn display_desc(self) -> bool {
        !matches!(self, ListOrder::Asc)
    }
    /// Whether `after=X` selects ids greater than X.
    fn after_is_greater(self) -> bool {
        !matches!(self, ListOrder::Desc)
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub before: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
    pub order: ListOrder,
}

impl Page {
    pub fn new(
        before: Option<String>,
        after: Option<String>,
        limit: Option<i64>,
        order: Option<&str>,
    ) -> CoreResult<Page> {
        let limit = limit.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(CoreError::invalid_value("limit must be between 1 and 100"));
        }
        if before.is_some() && after.is_some() {
            return Err(CoreError::invalid_value(
                "pass either `before` or `after`, not both",
            ));
        }
        Ok(Page {
            before: before.filter(|s| !s.is_empty()),
            after: after.filter(|s| !s.is_empty()),
            limit,
            order: ListOrder::parse(order)?,
        })
    }

    /// Which way the page reads ids, and from where.
    pub(crate) fn travel(&self) -> Travel {
        let agt = self.order.after_is_greater();
        match (&self.after, &self.before) {
            (Some(a), _) => Travel {
                up: agt,
                cursor: Some(a.clone()),
                after_side: true,
            },
            (None, Some(b)) => Travel {
                up: !agt,
                cursor: Some(b.clone()),
                after_side: false,
            },
            // no cursor: start from the beginning of the display order
            (None, None) => Travel {
                up: !self.order.display_desc(),
                cursor: None,
                after_side: self.order.display_desc() != agt,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub data: Vec<T>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Which way a keyset page reads ids, and from where.
pub(crate) struct Travel {
    /// ascending ids
    up: bool,
    cursor: Option<String>,
    /// the page lies on the `after` side of the cursor (or of the start)
    after_side: bool,
}

impl Travel {
    /// The rows to read for `page`: one more than the page, to tell whether more follow.
    pub(crate) fn keyset(&self, page: &Page) -> Keyset {
        Keyset {
            ascending: self.up,
            cursor: self.cursor.clone(),
            rows: page.limit + 1,
        }
    }

    /// The page made of `rows` (read by [`Travel::keyset`], in travel order): in
    /// display order, with the cursors to the pages before and after it.
    pub(crate) fn page<T>(
        self,
        mut rows: Vec<T>,
        page: &Page,
        id_of: impl Fn(&T) -> String,
    ) -> Paged<T> {
        let agt = page.order.after_is_greater();
        let Travel {
            up: travel_up,
            cursor,
            after_side,
        } = self;
        let has_more = rows.len() as i64 > page.limit;
        rows.truncate(page.limit as usize);
        // display order
        let display_up = !page.order.display_desc();
        if display_up != travel_up {
            rows.reverse();
        }
        let ids: Vec<String> = rows.iter().map(&id_of).collect();
        let max = ids.iter().max().cloned();
        let min = ids.iter().min().cloned();
        let (after_extreme, before_extreme) = if agt { (max, min) } else { (min, max) };
        let more_after = if after_side {
            has_more
        } else {
            !rows.is_empty() && cursor.is_some()
        };
        let more_before = if after_side {
            cursor.is_some() && !rows.is_empty()
        } else {
            has_more
        };
        Paged {
            after: if more_after { after_extreme } else { None },
            before: if more_before { before_extreme } else { None },
            data: rows,
        }
    }
}
