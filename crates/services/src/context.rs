//! The per-request context handed to every handler.
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use time::OffsetDateTime;

use crate::Principal;
use crate::authz::{Authorizer, AuthzRequest, Decision, RequestFacts, ResourcePolicy};

/// Whether a handler asked for an authorization decision. The pipeline denies any request whose
/// handler finished with `Undecided`: authorization fails closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum AuthState {
    Undecided = 0,
    Allowed = 1,
    Denied = 2,
    /// The operation is marked as not needing authorization (e.g. AssumeRoleWithWebIdentity).
    Unauthenticated = 3,
}

/// What the node shares with every handler.
#[derive(Clone)]
pub struct Node {
    pub store: rampart_store::Store,
    /// Seals key material and secret values at rest.
    pub master_key: Arc<MasterKey>,
    pub authorizer: Arc<dyn Authorizer>,
    /// Tell it when an access key changes (IAM's UpdateAccessKey, DeleteAccessKey, ...).
    pub credential_cache: Arc<dyn crate::credentials::CredentialCache>,
}

pub struct Ctx {
    pub principal: Principal,
    pub request_id: String,
    pub facts: RequestFacts,
    pub node: Node,
    auth_state: AtomicU8,
}

impl Ctx {
    pub fn new(principal: Principal, request_id: String, facts: RequestFacts, node: Node) -> Ctx {
        Ctx {
            principal,
            request_id,
            facts,
            node,
            auth_state: AtomicU8::new(AuthState::Undecided as u8),
        }
    }

    /// The account the caller acts in.
    pub fn account(&self) -> &str {
        &self.principal.account
    }

    /// The region the request addressed.
    pub fn region(&self) -> &str {
        &self.facts.region
    }

    /// Request time; handlers never read the clock themselves.
    pub fn now(&self) -> OffsetDateTime {
        self.facts.now
    }

    pub fn store(&self) -> &rampart_store::Store {
        &self.node.store
    }

    /// Asks for an authorization decision on a resource in the caller's own account with no
    /// resource policy; `Err(AccessDenied)` when denied.
    pub fn authorize(
        &self,
        action: &str,
        resource: &str,
        conditions: &[(&str, &str)],
    ) -> Result<(), AwsError> {
        let account = self.principal.account.clone();
        self.authorize_on(action, resource, &account, conditions, None)
    }

    /// The general form: the resource's owner account and its resource-based policy, if any.
    /// Every handler calls this (or `authorize`, or `mark_unauthenticated`) before it reads or
    /// changes anything.
    pub fn authorize_on(
        &self,
        action: &str,
        resource: &str,
        resource_account: &str,
        conditions: &[(&str, &str)],
        resource_policy: Option<ResourcePolicy<'_>>,
    ) -> Result<(), AwsError> {
        let request = AuthzRequest {
            principal: &self.principal,
            action,
            resource,
            resource_account,
            conditions,
            resource_policy,
            facts: &self.facts,
        };
        match self.node.authorizer.authorize(&request) {
            Decision::Allow => {
                // A denial already recorded in this request must stick.
                let _ = self.auth_state.compare_exchange(
                    AuthState::Undecided as u8,
                    AuthState::Allowed as u8,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
                Ok(())
            }
            Decision::Deny { message } => {
                self.auth_state
                    .store(AuthState::Denied as u8, Ordering::SeqCst);
                Err(AwsError::access_denied(message))
            }
        }
    }

    /// For operations that AWS serves without authorization (the caller proves itself otherwise).
    pub fn mark_unauthenticated(&self) {
        self.auth_state
            .store(AuthState::Unauthenticated as u8, Ordering::SeqCst);
    }

    pub fn auth_state(&self) -> AuthState {
        match self.auth_state.load(Ordering::SeqCst) {
            1 => AuthState::Allowed,
            2 => AuthState::Denied,
            3 => AuthState::Unauthenticated,
            _ => AuthState::Undecided,
        }
    }
}
