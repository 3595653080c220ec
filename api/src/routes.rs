//! One route table per surface (`vendor`, `scim`), read three ways: actix registers
//! it, the OpenAPI document (`crate::openapi`) takes its operations from the same
//! handlers' `#[utoipa::path]`, and a test holds the document's paths and methods to
//! the table, so a route cannot be served without being described.

/// `route_table! { METHOD "path" => handler, … }`: `ROUTES` (the method as actix's
/// builder names it, the path as registered), `register` (adds every route to a
/// `web::ServiceConfig` or a `web::Scope`, through [`Routes`]) and `ApiDoc` (the
/// OpenAPI paths of the handlers).
macro_rules! route_table {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every route of this surface: (method, path as registered).
        #[cfg(test)]
        pub const ROUTES: &[(&str, &str)] = &[$( (stringify!($method), $path) ),*];

        fn register<R: $crate::routes::Routes>(r: R) -> R {
            r$( .add($path, actix_web::web::$method().to($handler)) )*
        }

        /// The OpenAPI operations of this surface's handlers.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($( $handler ),*))]
        pub struct ApiDoc;
    };
}
pub(crate) use route_table;

/// What routes are added to: the app's `ServiceConfig` or a `Scope`.
pub trait Routes: Sized {
    fn add(self, path: &str, route: actix_web::Route) -> Self;
}

impl Routes for &mut actix_web::web::ServiceConfig {
    fn add(self, path: &str, route: actix_web::Route) -> Self {
        self.route(path, route)
    }
}

impl Routes for actix_web::Scope {
    fn add(self, path: &str, route: actix_web::Route) -> Self {
        self.route(path, route)
    }
}
