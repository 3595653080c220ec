//! scimgate's domain: storage on SQLite and PostgreSQL, SCIM 2.0 semantics, the
//! normalization of every IdP dialect (through `scimgate-connectors`) and the event
//! log. No HTTP types live here (docs/ARCHITECTURE.md).

pub mod audit;
pub mod bus;
pub mod clock;
pub mod error;
pub mod events;
pub mod ids;
pub mod json;
pub mod model;
pub mod ratelimit;
pub mod scim;
pub mod scope;
pub mod seal;
pub mod secrets;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod testing;
pub mod wire;
pub mod wire_api_key;
pub mod wire_webhooks;

pub use error::{CoreError, CoreResult, ScimType};
pub use service::{maintenance, Core, InactivePolicy, Settings};
