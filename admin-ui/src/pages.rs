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
    pub name: String,
    /// `active`, `inactive` or empty
    pub state: String,
    /// Whether any filter is set (the empty state says so).
    pub searched: bool,
    pub users: Vec<UserItem>,
    /// Links to the pages before and after this one (filters kept).
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub struct GroupItem {
    pub id: String,
    pub name: String,
    pub idp_id: String,
}

#[derive(Template)]
#[template(path = "groups.html")]
pub struct GroupsPage {
    pub nav: Nav,
    pub dir_id: String,
    pub dir_name: String,
    pub name: String,
    pub groups: Vec<GroupItem>,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "group.html")]
pub struct GroupPage {
    pub nav: Nav,
    pub dir_id: String,
    pub dir_name: String,
    pub group: GroupItem,
    pub created_at: String,
    pub members: Vec<UserItem>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub raw: String,
}

pub struct EventChoice {
    pub id: String,
    pub name: &'static str,
    pub checked: bool,
}

pub struct EndpointItem {
    pub id: String,
    pub url: String,
    pub description: String,
    /// Empty: every organization's events.
    pub organization_id: String,
    pub enabled: bool,
    /// `healthy`, `failing` or `disabled`
    pub state: &'static str,
    pub failing_since: Option<String>,
    pub last_success: Option<String>,
    pub disabled_reason: Option<String>,
    /// Events not delivered yet, all directories.
    pub undelivered: i64,
    pub oldest_age: Option<String>,
    pub events: String,
    /// Directories with a backlog or an error: (directory id, undelivered, last error).
    pub backlog: Vec<(String, i64, String)>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
pub struct EndpointsPage {
    pub nav: Nav,
    pub endpoints: Vec<EndpointItem>,
    pub first_page: bool,
    pub next: Option<String>,
    /// The creation form (as sent, when it was refused).
    pub url: String,
    pub description: String,
    pub organization_id: String,
    pub events: Vec<EventChoice>,
    pub error: Option<String>,
}

pub struct StatusChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct DeliveryItem {
    pub id: String,
    pub attempted_at: String,
    pub event: String,
    pub event_id: String,
    pub directory_id: String,
    pub attempt: i32,
    pub status: String,
    pub status_code: String,
    pub latency_ms: i64,
    pub error: String,
}

#[derive(Template)]
#[template(path = "webhook.html")]
pub struct EndpointPage {
    pub nav: Nav,
    pub endpoint: EndpointItem,
    /// A signing secret just made (shown once).
    pub secret: Option<String>,
    pub status: String,
    pub statuses: Vec<StatusChoice>,
    /// Whether this is a later page of the deliveries.
    pub paged: bool,
    pub deliveries: Vec<DeliveryItem>,
    pub next: Option<String>,
}

pub struct ScopeChoice {
    pub id: String,
    pub name: &'static str,
    pub checked: bool,
}

pub struct ApiKeyItem {
    pub id: String,
    pub name: String,
    pub suffix: String,
    pub scopes: String,
    pub created_at: String,
    pub last_used: String,
    pub expires: String,
    pub expired: bool,
    pub bootstrap: bool,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
pub struct ApiKeysPage {
    pub nav: Nav,
    pub keys: Vec<ApiKeyItem>,
    pub scopes: Vec<ScopeChoice>,
    pub name: String,
    pub expires: String,
    /// A key just made (shown once).
    pub new_key: Option<String>,
    pub error: Option<String>,
}

pub struct AuditItem {
    pub at: String,
    pub actor: String,
    pub actor_id: String,
    pub client: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub nav: Nav,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub since: String,
    pub until: String,
    pub searched: bool,
    pub records: Vec<AuditItem>,
    pub prev: Option<String>,
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
