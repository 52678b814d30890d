//! In-process test support for service crates: a node over an in-memory store and a request
//! context at a chosen time, so each crate's handler tests need not build them again.
use std::sync::Arc;

use rampart_crypto::MasterKey;
use time::OffsetDateTime;

use crate::credentials::CredentialCache;
use crate::{Ctx, DiscardServiceEvents, Node, Principal, RequestFacts, RootOnlyAuthorizer};

/// A credential cache with nothing to forget.
pub struct NoCredentialCache;

impl CredentialCache for NoCredentialCache {
    fn invalidate(&self, _: &str) {}
}

/// A node over a fresh in-memory store, sealing with `master_key`; root-only authorization.
pub fn node(master_key: [u8; 32]) -> Result<Node, String> {
    Ok(Node {
        store: rampart_store::Store::open_in_memory().map_err(|e| e.to_string())?,
        master_key: Arc::new(MasterKey::from_bytes(&master_key).map_err(|e| e.to_string())?),
        authorizer: Arc::new(RootOnlyAuthorizer),
        credential_cache: Arc::new(NoCredentialCache),
        service_events: Arc::new(DiscardServiceEvents),
    })
}

/// A request by `principal` at `now` in `region`, from 127.0.0.1 over plain HTTP.
pub fn ctx(node: &Node, principal: Principal, region: &str, now: OffsetDateTime) -> Arc<Ctx> {
    let facts = RequestFacts {
        source_ip: "127.0.0.1".into(),
        secure_transport: false,
        now,
        region: region.into(),
        user_agent: "test".into(),
    };
    Arc::new(Ctx::new(principal, "req".into(), facts, node.clone()))
}
