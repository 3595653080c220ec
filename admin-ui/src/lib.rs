//! The admin UI crate: server-rendered operator and setup pages, mounted by `api`
//! under `/admin`. Its pages arrive with the admin-UI issue; today it only provides
//! the mount point so the workspace layout is final.
