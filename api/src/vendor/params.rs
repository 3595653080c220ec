//! Vendor API query strings, deserialized into each endpoint's struct on the way in.
//!
//! WorkOS clients send list parameters in several forms (WIRE-COMPAT.md §1): `events`
//! as `events=a,b` (the spec's `form, explode: false`), `events=a%2Cb` (the Node SDK)
//! or repeated `events[]=` (the emulator, the Rust SDK). So the query string is read
//! as a multimap (`[]` dropped from a name) and deserialized through [`Param`]: a
//! string field takes the parameter's last value, trimmed, and an empty one counts as
//! absent; a sequence field takes every value, split on commas. Unknown parameters are
//! ignored. The structs check their values in a fixed order (`try_from` their raw
//! form), so a request with several faults always gets the same message.

use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{DeserializeOwned, IntoDeserializer, Visitor};
use serde::{forward_to_deserialize_any, Deserialize, Deserializer};

use chrono::NaiveDateTime;

use crate::error::ApiError;
use scimgate_core::service::vendor_reads::Page;

/// A query string deserialized into `T`; its errors are 422 `invalid_request_parameters`.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(Query))
    }
}

/// Deserialize a query string (see the module's notes).
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let k = k.trim_end_matches("[]").to_string();
        m.entry(k).or_default().push(v.into_owned());
    }
    T::deserialize(MapDeserializer::new(
        m.into_iter().map(|(k, v)| (k, Param(v))),
    ))
    .map_err(|e: Invalid| ApiError::bad_request(e.0))
}

/// Why a query string or body was refused: the message of the 422.
#[derive(Debug)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

impl serde::de::Error for Invalid {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Invalid(msg.to_string())
    }
}

impl From<scimgate_core::CoreError> for Invalid {
    /// A core check of a parameter (`Page::new`): its detail.
    fn from(e: scimgate_core::CoreError) -> Invalid {
        match e {
            scimgate_core::CoreError::BadRequest { detail, .. } => Invalid(detail),
            other => Invalid(other.to_string()),
        }
    }
}

/// Every value of one parameter.
struct Param(Vec<String>);

impl Param {
    /// The last value, trimmed; `None` when absent or empty.
    fn one(&self) -> Option<String> {
        self.0
            .last()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// Every value split on commas, trimmed, the empty ones left out.
    fn list(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

impl<'de> IntoDeserializer<'de, Invalid> for Param {
    type Deserializer = Param;
    fn into_deserializer(self) -> Param {
        self
    }
}

impl<'de> Deserializer<'de> for Param {
    type Error = Invalid;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Invalid> {
        match self.one() {
            Some(s) => v.visit_string(s),
            None => v.visit_none(),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Invalid> {
        match self.one() {
            Some(s) => v.visit_some(s.into_deserializer()),
            None => v.visit_none(),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Invalid> {
        v.visit_seq(SeqDeserializer::new(self.list().into_iter()))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// An integer parameter: "`{name}` must be an integer" when it is not one.
pub fn int(name: &str, v: Option<&str>) -> Result<Option<i64>, Invalid> {
    v.map(|s| {
        s.parse::<i64>()
            .map_err(|_| Invalid(format!("`{name}` must be an integer")))
    })
    .transpose()
}

/// An RFC 3339 timestamp (`2026-12-07T10:00:00Z`, any offset) as UTC.
pub fn timestamp(name: &str, v: Option<&str>) -> Result<Option<NaiveDateTime>, Invalid> {
    v.map(|s| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.naive_utc())
            .map_err(|_| {
                Invalid(format!(
                    "`{name}` must be an RFC 3339 timestamp such as 2026-12-07T10:00:00Z"
                ))
            })
    })
    .transpose()
}

/// The page of a WorkOS list (`before`, `after`, `limit` 1–100 (10), `order`
/// `desc` (default) / `asc` / `normal`), as core pages it.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawPage")]
pub struct PageQuery(pub Page);

#[derive(Deserialize)]
struct RawPage {
    before: Option<String>,
    after: Option<String>,
    limit: Option<String>,
    order: Option<String>,
}

impl TryFrom<RawPage> for PageQuery {
    type Error = Invalid;
    fn try_from(r: RawPage) -> Result<PageQuery, Invalid> {
        let limit = int("limit", r.limit.as_deref())?;
        Ok(PageQuery(Page::new(
            r.before,
            r.after,
            limit,
            r.order.as_deref(),
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Q {
        one: Option<String>,
        #[serde(default)]
        many: Vec<String>,
    }

    fn q(s: &str) -> Q {
        parse::<Q>(s).unwrap_or(Q {
            one: Some("parse failed".into()),
            many: Vec::new(),
        })
    }

    #[test]
    fn lists_come_in_every_form_and_strings_take_the_last_value() {
        let want = vec!["a".to_string(), "b".to_string()];
        for s in [
            "many=a,b",
            "many=a%2Cb",
            "many[]=a&many[]=b",
            "many%5B%5D=a&many=b",
            "many=a,&many=+b",
        ] {
            assert_eq!(q(s).many, want, "{s}");
        }
        assert_eq!(q("one=x&one=+y+").one.as_deref(), Some("y"));
        assert_eq!(
            q("one=+&other=1"),
            Q {
                one: None,
                many: Vec::new()
            }
        );
    }
}
