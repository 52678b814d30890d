//! What every request handler shares.
use rampart_services::Node;

use crate::audit::AuditSink;
use crate::config::Config;
use crate::credentials::Credentials;

pub struct AppState {
    /// Domain time (movable in --dev) and the wall clock.
    pub clock: std::sync::Arc<crate::clock::Clock>,
    /// The authorizer, for invalidating its cache after IAM changes.
    pub iam_authz: std::sync::Arc<rampart_authz::IamAuthorizer>,
    pub config: Config,
    /// Store, master key and authorizer, shared with every handler.
    pub node: Node,
    pub credentials: std::sync::Arc<Credentials>,
    pub audit: AuditSink,
    pub default_account: String,
}
