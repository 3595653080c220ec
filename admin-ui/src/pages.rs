//! The pages' data: one askama template (under `templates/`) per struct, checked at
//! compile time. Everything a template prints is escaped by askama.

use askama::Template;

/// The operator's header: who is logged in, and the logout form's CSRF token.
pub struct Nav {
    pub email: String,
    pub csrf: String,
}

impl Nav {
    pub fn of(op: &crate::session::Operator) -> Nav {
        Nav {
            email: op.email.clone(),
            csrf: op.csrf.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub csrf: String,
    pub error: Option<String>,
    pub email: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: &'static str,
    pub message: String,
    pub next: &'static str,
}

pub struct OrgItem {
    pub id: String,
    pub name: String,
    pub domains: String,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "orgs.html")]
pub struct OrgsPage {
    pub nav: Nav,
    pub q: String,
    pub orgs: Vec<OrgItem>,
    pub next: Option<String>,
}

pub struct DirItem {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub state: String,
    pub users: i64,
    pub groups: i64,
}

pub struct TypeOption {
    pub value: &'static str,
    pub label: &'static str,
}

pub struct LinkItem {
    pub id: String,
    pub created_at: String,
    pub status: &'static str,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "org.html")]
pub struct OrgPage {
    pub nav: Nav,
    pub org: OrgItem,
    pub domains_text: String,
    pub directories: Vec<DirItem>,
    pub types: Vec<TypeOption>,
    pub links: Vec<LinkItem>,
    /// A setup link just made (shown once).
    pub new_link: Option<String>,
}

pub struct TokenItem {
    pub id: String,
    pub name: String,
    pub suffix: String,
    pub created_at: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "directory.html")]
pub struct DirectoryPage {
    pub nav: Nav,
    pub dir: DirItem,
    pub org_id: String,
    pub org_name: String,
    pub scim_url: String,
    pub tokens: Vec<TokenItem>,
    /// A token just made (shown once).
    pub new_token: Option<String>,
    pub health: crate::health::Health,
}

pub struct UserItem {
    pub id: String,
    pub email: String,
    pub name: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub nav: Nav,
    pub dir_id: String,
    pub dir_name: String,
    pub email: String,
    pub users: Vec<UserItem>,
    pub groups: Vec<(String, String)>,
    pub next: Option<String>,
}

pub struct EventItem {
    pub id: String,
    pub event: String,
    pub created_at: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "user.html")]
pub struct UserPage {
    pub nav: Nav,
    pub dir_id: String,
    pub user: UserItem,
    pub fields: Vec<(String, String)>,
    pub groups: Vec<String>,
    pub roles: String,
    pub custom: String,
    pub raw: String,
    pub events: Vec<EventItem>,
}

#[derive(Template)]
#[template(path = "events.html")]
pub struct EventsPage {
    pub nav: Nav,
    pub directory: String,
    pub event: String,
    pub since: String,
    pub until: String,
    pub poll_url: String,
    pub events: Vec<EventItem>,
}

#[derive(Template)]
#[template(path = "events_fragment.html")]
pub struct EventsFragment {
    pub events: Vec<EventItem>,
}

#[derive(Template)]
#[template(path = "portal_start.html")]
pub struct PortalStart {
    pub token: String,
}

#[derive(Template)]
#[template(path = "portal_pick.html")]
pub struct PortalPick {
    pub csrf: String,
    pub org_name: String,
    pub types: Vec<TypeOption>,
}

#[derive(Template)]
#[template(path = "portal_setup.html")]
pub struct PortalSetup {
    pub csrf: String,
    pub idp: &'static str,
    pub steps: Vec<String>,
    pub scim_url: String,
    /// A token just minted (shown once).
    pub token: Option<String>,
    pub status: PortalStatus,
}

pub struct PortalStatus {
    pub connected: bool,
    pub users: i64,
    pub groups: i64,
    pub last_request: Option<String>,
    /// The last rejected requests, explained.
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal_done.html")]
pub struct PortalDone {
    /// Where the vendor wants the IT admin back (`success_url`).
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "portal_status.html")]
pub struct PortalStatusFragment {
    pub status: PortalStatus,
}
