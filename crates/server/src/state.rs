//! What every request handler shares.
use rampart_services::Node;

use crate::audit::AuditSink;
use crate::config::Config;
use crate::credentials::Credentials;

pub struct AppState {
    pub config: Config,
    /// Store, master key and authorizer, shared with every handler.
    pub node: Node,
    pub credentials: std::sync::Arc<Credentials>,
    pub audit: AuditSink,
    pub default_account: String,
}
