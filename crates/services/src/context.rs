//! The per-request context handed to every handler.
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use time::OffsetDateTime;

use crate::Principal;
use crate::authz::{Authorizer, AuthzRequest, Decision, RequestFacts, ResourcePolicy};
use crate::service_events::{AuditResource, ServiceEventSink};

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
    /// Background jobs record their actions here (CloudTrail `AwsServiceEvent`s).
    pub service_events: Arc<dyn ServiceEventSink>,
}

pub struct Ctx {
    pub principal: Principal,
    pub request_id: String,
    pub facts: RequestFacts,
    pub node: Node,
    auth_state: AtomicU8,
    /// Resources the handler reported touching, for the audit record's `resources`.
    resources: Mutex<Vec<AuditResource>>,
}

impl Ctx {
    pub fn new(principal: Principal, request_id: String, facts: RequestFacts, node: Node) -> Ctx {
        Ctx {
            principal,
            request_id,
            facts,
            node,
            auth_state: AtomicU8::new(AuthState::Undecided as u8),
            resources: Mutex::new(Vec::new()),
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
        self.authorize_as(
            &self.principal,
            action,
            resource,
            resource_account,
            conditions,
            resource_policy,
        )
    }

    /// Decides for another principal than the request's signer: the verified holder of a
    /// web-identity token or SAML assertion, which only the operation itself can establish.
    pub fn authorize_as(
        &self,
        principal: &crate::Principal,
        action: &str,
        resource: &str,
        resource_account: &str,
        conditions: &[(&str, &str)],
        resource_policy: Option<ResourcePolicy<'_>>,
    ) -> Result<(), AwsError> {
        let request = AuthzRequest {
            principal,
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

    /// Reports a resource this request acts on (ARN and CloudTrail type such as
    /// `AWS::KMS::Key`); the audit record lists it under `resources`.
    pub fn record_resource(&self, arn: &str, resource_type: &str) {
        if let Ok(mut list) = self.resources.lock() {
            let r = AuditResource {
                arn: arn.to_string(),
                resource_type: resource_type.to_string(),
            };
            if !list.contains(&r) {
                list.push(r);
            }
        }
    }

    /// The resources reported so far (the pipeline copies them into the audit record).
    pub fn resources(&self) -> Vec<AuditResource> {
        self.resources.lock().map(|l| l.clone()).unwrap_or_default()
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
