//! IAM enforcement: the `Authorizer` backed by the policy engine and IAM's records.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod context;
mod positions;
mod principal_policies;
pub mod simulate;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use rampart_policy::{CompiledPolicy, Outcome, Policy, PolicyKind, PolicySet, ResourceMode};
use rampart_services::{Authorizer, AuthzRequest, Decision, ResourcePolicyKind};
use rampart_store::Store;

use crate::principal_policies::CachedPrincipal;

/// Compiled resource policies kept at most (they are keyed by document).
const MAX_RESOURCE_POLICIES: usize = 4_096;

pub struct IamAuthorizer {
    store: Store,
    /// Bumped on every IAM change; cache entries from an older epoch are rebuilt.
    epoch: AtomicU64,
    principals: RwLock<HashMap<String, Arc<CachedPrincipal>>>,
    resource_policies: RwLock<HashMap<u64, Arc<CompiledPolicy>>>,
    /// Log the engine's trace for every denied request (`--explain`).
    explain: AtomicBool,
}

impl IamAuthorizer {
    pub fn new(store: Store, explain: bool) -> IamAuthorizer {
        IamAuthorizer {
            store,
            epoch: AtomicU64::new(1),
            principals: RwLock::new(HashMap::new()),
            resource_policies: RwLock::new(HashMap::new()),
            explain: AtomicBool::new(explain),
        }
    }

    /// Forgets every cached principal: call after any change to IAM's records.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut p) = self.principals.write() {
            p.clear();
        }
    }

    fn resource_policy(
        &self,
        document: &str,
        kind: ResourcePolicyKind,
    ) -> Result<Arc<CompiledPolicy>, String> {
        let hash = context::hash64(document.as_bytes()) ^ kind as u64;
        if let Some(p) = self
            .resource_policies
            .read()
            .ok()
            .and_then(|m| m.get(&hash).cloned())
        {
            return Ok(p);
        }
        let policy_kind = match kind {
            ResourcePolicyKind::KeyPolicy => PolicyKind::KeyPolicy,
            ResourcePolicyKind::TrustPolicy => PolicyKind::RoleTrust,
            ResourcePolicyKind::Standard => PolicyKind::Resource,
        };
        let name = match kind {
            ResourcePolicyKind::KeyPolicy => "key policy",
            ResourcePolicyKind::TrustPolicy => "trust policy",
            ResourcePolicyKind::Standard => "resource policy",
        };
        let compiled = Arc::new(
            Policy::parse(document, policy_kind)
                .map_err(|e| e.to_string())?
                .compile(name),
        );
        if let Ok(mut m) = self.resource_policies.write() {
            if m.len() >= MAX_RESOURCE_POLICIES {
                m.clear();
            }
            m.insert(hash, compiled.clone());
        }
        Ok(compiled)
    }

    fn principal(
        &self,
        request: &AuthzRequest<'_>,
    ) -> Result<Arc<CachedPrincipal>, rampart_aws_types::AwsError> {
        let key = principal_policies::cache_key(request.principal);
        let epoch = self.epoch.load(Ordering::SeqCst);
        if let Some(p) = self
            .principals
            .read()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            if p.epoch == epoch {
                return Ok(p);
            }
        }
        let loaded = Arc::new(principal_policies::load(
            &self.store,
            request.principal,
            epoch,
        )?);
        if let Ok(mut m) = self.principals.write() {
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(key, loaded.clone());
        }
        Ok(loaded)
    }

    fn deny(&self, request: &AuthzRequest<'_>, reason: &str) -> Decision {
        Decision::Deny {
            message: format!(
                "User: {} is not authorized to perform: {} on resource: {} {reason}",
                request.principal.arn, request.action, request.resource
            ),
        }
    }
}

impl Authorizer for IamAuthorizer {
    fn authorize(&self, request: &AuthzRequest<'_>) -> Decision {
        let principal = match self.principal(request) {
            Ok(p) => p,
            Err(e) => {
                // The issuing user or role is gone (or its records are unreadable): its
                // credentials and sessions stop working.
                tracing::debug!(principal = %request.principal.arn, error = %e, "no policies for principal");
                return self.deny(request, "because the principal no longer exists");
            }
        };
        let mut set: PolicySet = principal.set.clone();
        if let Some(rp) = &request.resource_policy {
            match self.resource_policy(rp.document, rp.kind) {
                Ok(compiled) => {
                    set.resource = Some(compiled);
                    set.resource_mode = match rp.kind {
                        ResourcePolicyKind::KeyPolicy => ResourceMode::KeyPolicy,
                        // A trust policy must let the caller in itself (or name its account, so
                        // that identity policies decide): an identity allow alone is not enough.
                        ResourcePolicyKind::TrustPolicy => ResourceMode::RoleTrust,
                        ResourcePolicyKind::Standard => ResourceMode::Standard,
                    };
                }
                Err(e) => {
                    tracing::error!(error = %e, "stored resource policy does not parse; denying");
                    return self.deny(request, "because the resource's policy is invalid");
                }
            }
        }
        let ctx = context::request_context(request, &principal);
        let (outcome, _) = rampart_policy::decide(&set, &ctx);
        if outcome == Outcome::Allow {
            return Decision::Allow;
        }
        // Slow path: explain the denial the way AWS words it.
        let decision = rampart_policy::evaluate(&set, &ctx);
        if self.explain.load(Ordering::Relaxed) {
            tracing::info!(principal = %request.principal.arn, action = request.action, resource = request.resource, outcome = ?decision.outcome, denied_by = ?decision.denied_by, matched = ?decision.matched, "explain: request denied");
        }
        let reason = decision.denial_reason(request.action).unwrap_or_else(|| {
            format!(
                "because no identity-based policy allows the {} action",
                request.action
            )
        });
        self.deny(request, &reason)
    }
}
