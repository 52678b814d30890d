//! The per-request context handed to every handler.
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use rampart_aws_types::AwsError;
use time::OffsetDateTime;

use crate::Principal;
use crate::authz::{Authorizer, AuthzRequest, Decision};

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

pub struct Ctx {
    pub principal: Principal,
    /// The region the request was addressed to.
    pub region: String,
    pub request_id: String,
    /// Request time; handlers never read the clock themselves.
    pub now: OffsetDateTime,
    pub store: rampart_store::Store,
    pub source_ip: String,
    pub authorizer: Arc<dyn Authorizer>,
    auth_state: AtomicU8,
}

impl Ctx {
    pub fn new(
        principal: Principal,
        region: String,
        request_id: String,
        now: OffsetDateTime,
        store: rampart_store::Store,
        source_ip: String,
        authorizer: Arc<dyn Authorizer>,
    ) -> Ctx {
        Ctx {
            principal,
            region,
            request_id,
            now,
            store,
            source_ip,
            authorizer,
            auth_state: AtomicU8::new(AuthState::Undecided as u8),
        }
    }

    /// The account the caller acts in.
    pub fn account(&self) -> &str {
        &self.principal.account
    }

    /// Asks for an authorization decision; `Err(AccessDenied)` when denied. Every handler calls
    /// this (or `mark_unauthenticated`) before it reads or changes anything.
    pub fn authorize(
        &self,
        action: &str,
        resource: &str,
        resource_account: &str,
        conditions: &[(&str, &str)],
    ) -> Result<(), AwsError> {
        let decision = self.authorizer.authorize(&AuthzRequest {
            principal: &self.principal,
            action,
            resource,
            resource_account,
            conditions,
        });
        match decision {
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
