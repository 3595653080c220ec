//! scimgate's webhook delivery (issue 15): background workers that read the event log
//! after each endpoint's per-directory cursor and POST each event, in `seq` order, to
//! the endpoint, signed with `WorkOS-Signature` (WIRE-COMPAT.md §7) and the Standard
//! Webhooks headers; the target policy (https only, no private addresses) at creation
//! and at each connection. Storage and bookkeeping are `scimgate_core`'s
//! (`service::webhooks`, `store::webhooks`). No actix here.

pub mod engine;
pub mod sign;
pub mod target;

pub use engine::{spawn, EngineConfig};
pub use target::Policy;
