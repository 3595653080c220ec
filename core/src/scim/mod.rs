//! SCIM 2.0 semantics over the domain: schemas and discovery, PATCH, filters and
//! sorting (resolved to stored fields; `store` writes their SQL), the filter index,
//! and resource rendering. Nothing here does I/O.

pub mod discovery;
pub mod filter;
pub mod index;
pub mod patch;
pub mod resource;
pub mod schema;
pub mod sort;
