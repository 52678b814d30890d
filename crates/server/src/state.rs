//! What every request handler shares.
use std::sync::Arc;

use rampart_services::Authorizer;
use rampart_store::Store;

use crate::audit::AuditSink;
use crate::config::Config;
use crate::credentials::Credentials;

pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub credentials: Credentials,
    pub audit: AuditSink,
    pub authorizer: Arc<dyn Authorizer>,
    pub default_account: String,
}
