//! A policy compiled for deciding: lower-cased action matchers indexed by service, pre-split
//! ARN patterns, compiled conditions, principals normalised for comparison.

use std::sync::Arc;

use crate::arn::ArnPattern;
use crate::condition::CompiledCondition;
use crate::context::{Principal, PrincipalKind, RequestContext};
use crate::document::{Effect, Policy, PrincipalEntry, Statement};
use crate::hash::key_hash;
use crate::kind::PolicyKind;
use crate::pattern::Matcher;

/// How a resource-policy statement's principal matched the caller. Ordered by strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalMatch {
    /// Named the caller's account (`123456789012` or `arn:aws:iam::123456789012:root`): the
    /// account delegates to its own identity policies.
    Account,
    /// Named the role of a role session (or the IAM user behind a federated user session):
    /// boundaries and session policies still limit the grant.
    Issuer,
    /// Named the caller itself (user ARN, role session ARN, `*`, service, provider).
    Exact,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompiledPrincipal {
    negated: bool,
    any: bool,
    accounts: Box<[Box<str>]>,
    arns: Box<[Box<str>]>,
    services: Box<[Box<str>]>,
    federated: Box<[Box<str>]>,
    canonical: Box<[Box<str>]>,
}

impl CompiledPrincipal {
    fn new(negated: bool, entries: &[PrincipalEntry]) -> CompiledPrincipal {
        let mut p = CompiledPrincipal {
            negated,
            any: false,
            accounts: Box::default(),
            arns: Box::default(),
            services: Box::default(),
            federated: Box::default(),
            canonical: Box::default(),
        };
        let pick = |f: fn(&PrincipalEntry) -> Option<&String>| -> Box<[Box<str>]> {
            entries
                .iter()
                .filter_map(f)
                .map(|s| s.as_str().into())
                .collect()
        };
        p.any = entries.contains(&PrincipalEntry::Any);
        p.accounts = pick(|e| match e {
            PrincipalEntry::Account(a) => Some(a),
            _ => None,
        });
        p.arns = pick(|e| match e {
            PrincipalEntry::Arn(a) => Some(a),
            _ => None,
        });
        p.services = pick(|e| match e {
            PrincipalEntry::Service(a) => Some(a),
            _ => None,
        });
        p.federated = pick(|e| match e {
            PrincipalEntry::Federated(a) => Some(a),
            _ => None,
        });
        p.canonical = pick(|e| match e {
            PrincipalEntry::CanonicalUser(a) => Some(a),
            _ => None,
        });
        p
    }

    fn has(list: &[Box<str>], s: &str) -> bool {
        !s.is_empty() && list.iter().any(|x| **x == *s)
    }

    /// How the listed principals cover the caller (strongest match), without negation.
    fn positive(&self, p: &Principal) -> Option<PrincipalMatch> {
        if self.any {
            return Some(PrincipalMatch::Exact);
        }
        match p.kind {
            PrincipalKind::Service => {
                return Self::has(&self.services, &p.arn).then_some(PrincipalMatch::Exact);
            }
            PrincipalKind::WebIdentity => {
                return Self::has(&self.federated, &p.arn).then_some(PrincipalMatch::Exact);
            }
            PrincipalKind::Anonymous => return None,
            _ => {}
        }
        if Self::has(&self.arns, &p.arn)
            || p.canonical_user
                .as_deref()
                .is_some_and(|c| Self::has(&self.canonical, c))
        {
            return Some(PrincipalMatch::Exact);
        }
        if Self::has(&self.accounts, &p.account) {
            return Some(if p.kind == PrincipalKind::Root {
                PrincipalMatch::Exact
            } else {
                PrincipalMatch::Account
            });
        }
        if p.session_issuer_arn
            .as_deref()
            .is_some_and(|i| Self::has(&self.arns, i))
        {
            return Some(PrincipalMatch::Issuer);
        }
        None
    }

    /// Whether the statement applies to the caller, and how.
    ///
    /// `NotPrincipal` excludes a caller only when every identity the request is evaluated as is
    /// listed: its own ARN and its account. AWS: "When you use NotPrincipal with Deny, you must
    /// also specify the account ARN of the not-denied principal"
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>).
    fn matches(&self, p: &Principal) -> Option<PrincipalMatch> {
        if !self.negated {
            return self.positive(p);
        }
        let excluded = if self.any {
            true
        } else {
            match p.kind {
                PrincipalKind::Service => Self::has(&self.services, &p.arn),
                PrincipalKind::WebIdentity => Self::has(&self.federated, &p.arn),
                PrincipalKind::Anonymous => false,
                PrincipalKind::Root => Self::has(&self.accounts, &p.account),
                _ => Self::has(&self.arns, &p.arn) && Self::has(&self.accounts, &p.account),
            }
        };
        (!excluded).then_some(PrincipalMatch::Exact)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompiledStatement {
    pub(crate) index: usize,
    pub(crate) sid: Option<Arc<str>>,
    pub(crate) effect: Effect,
    principal: Option<CompiledPrincipal>,
    not_action: bool,
    actions: Box<[Matcher]>,
    /// `None`: no Resource element (trust policies), matches any resource.
    resources: Option<(bool, Box<[ArnPattern]>)>,
    conditions: Box<[CompiledCondition]>,
}

impl CompiledStatement {
    fn new(index: usize, s: &Statement, vars: bool) -> CompiledStatement {
        CompiledStatement {
            index,
            sid: s.sid.as_deref().map(Arc::from),
            effect: s.effect,
            principal: s
                .principal
                .as_ref()
                .map(|p| CompiledPrincipal::new(p.negated, &p.entries)),
            not_action: s.action.negated,
            actions: s
                .action
                .values
                .iter()
                .map(|a| Matcher::lowercase(a))
                .collect(),
            resources: s.resource.as_ref().map(|r| {
                (
                    r.negated,
                    r.values.iter().map(|v| ArnPattern::new(v, vars)).collect(),
                )
            }),
            conditions: s
                .conditions
                .iter()
                .map(|c| CompiledCondition::new(c, vars))
                .collect(),
        }
    }

    #[inline]
    fn action_matches(&self, ctx: &RequestContext) -> bool {
        let hit = self
            .actions
            .iter()
            .any(|m| m.matches(&ctx.action_lc, ctx) == Some(true));
        hit != self.not_action
    }

    #[inline]
    fn resource_matches(&self, ctx: &RequestContext) -> bool {
        let Some((negated, pats)) = &self.resources else {
            return true;
        };
        let mut any = false;
        for p in pats.iter() {
            match p.matches(&ctx.resource, ctx.resource_parts.as_ref(), ctx) {
                Some(true) => {
                    any = true;
                    break;
                }
                Some(false) => {}
                // An unresolvable variable makes the element not match, whether it is
                // Resource or NotResource.
                None => return false,
            }
        }
        any != *negated
    }

    /// Whether the statement applies to the request; for statements with a principal, how the
    /// principal matched (`Exact` for statements without one).
    #[inline]
    pub(crate) fn applies(&self, ctx: &RequestContext) -> Option<PrincipalMatch> {
        if !self.action_matches(ctx) || !self.resource_matches(ctx) {
            return None;
        }
        let how = match &self.principal {
            Some(p) => p.matches(&ctx.principal)?,
            None => PrincipalMatch::Exact,
        };
        self.conditions.iter().all(|c| c.eval(ctx)).then_some(how)
    }
}

/// Statement indexes of one effect, bucketed by the service their actions name.
#[derive(Debug, Clone, Default, PartialEq)]
struct ServiceIndex {
    /// (hash of service, service, statement positions)
    services: Vec<(u64, Box<str>, Box<[u32]>)>,
    /// Statements whose actions may match any service (`*`, `NotAction`, wildcard services).
    anywhere: Box<[u32]>,
}

impl ServiceIndex {
    fn build(stmts: &[CompiledStatement], source: &Policy, effect: Effect) -> ServiceIndex {
        let mut services: Vec<(u64, Box<str>, Vec<u32>)> = Vec::new();
        let mut anywhere = Vec::new();
        for (pos, (cs, s)) in stmts.iter().zip(source.statements.iter()).enumerate() {
            if cs.effect != effect {
                continue;
            }
            let pos = pos as u32;
            let mut svcs: Vec<String> = Vec::new();
            let mut wild = s.action.negated;
            for a in &s.action.values {
                match a.split_once(':') {
                    Some((svc, _)) if !svc.contains(['*', '?']) => svcs.push(svc.to_lowercase()),
                    _ => wild = true,
                }
            }
            if wild {
                anywhere.push(pos);
                continue;
            }
            svcs.sort();
            svcs.dedup();
            for svc in svcs {
                let h = key_hash(&svc);
                match services
                    .iter_mut()
                    .find(|(sh, s, _)| *sh == h && **s == *svc)
                {
                    Some((_, _, v)) => v.push(pos),
                    None => services.push((h, svc.into_boxed_str(), vec![pos])),
                }
            }
        }
        // Sorted by hash so lookups are a binary search even for policies naming many services.
        services.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        ServiceIndex {
            services: services
                .into_iter()
                .map(|(h, s, v)| (h, s, v.into_boxed_slice()))
                .collect(),
            anywhere: anywhere.into_boxed_slice(),
        }
    }

    /// The candidate statements for the request's service.
    #[inline]
    fn candidates<'a>(&'a self, ctx: &RequestContext) -> (&'a [u32], &'a [u32]) {
        let svc = ctx.service();
        let start = self
            .services
            .partition_point(|(h, _, _)| *h < ctx.service_hash);
        let specific = self
            .services
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(|(h, _, _)| *h == ctx.service_hash)
            .find(|(_, s, _)| **s == *svc)
            .map_or(&[][..], |(_, _, v)| &v[..]);
        (specific, &self.anywhere)
    }

    fn is_empty(&self) -> bool {
        self.services.is_empty() && self.anywhere.is_empty()
    }
}

/// A policy compiled once for fast decisions. Cheap to share (`Arc`) between policy sets.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledPolicy {
    name: Arc<str>,
    kind: PolicyKind,
    pub(crate) statements: Box<[CompiledStatement]>,
    allows: ServiceIndex,
    denies: ServiceIndex,
}

impl Policy {
    /// Compiles the policy for deciding. `name` identifies it in decision traces (an ARN, or
    /// `user/alice/inline-policy-name`, as the caller prefers).
    pub fn compile(&self, name: &str) -> CompiledPolicy {
        let vars = self.effective_version().has_variables();
        let statements: Box<[CompiledStatement]> = self
            .statements
            .iter()
            .enumerate()
            .map(|(i, s)| CompiledStatement::new(i, s, vars))
            .collect();
        let allows = ServiceIndex::build(&statements, self, Effect::Allow);
        let denies = ServiceIndex::build(&statements, self, Effect::Deny);
        CompiledPolicy {
            name: Arc::from(name),
            kind: self.kind,
            statements,
            allows,
            denies,
        }
    }
}

/// What one policy says about one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PolicyVerdict {
    pub(crate) deny: bool,
    /// The strongest principal match among the Allow statements that apply.
    pub(crate) allow: Option<PrincipalMatch>,
}

/// Receives every statement that applied, when the caller asked for a trace.
pub(crate) trait StatementSink {
    /// When false, evaluation may stop early (first deny, first allow).
    const FULL: bool;
    fn statement(&mut self, policy: &CompiledPolicy, stmt: &CompiledStatement);
}

impl CompiledPolicy {
    /// The name given at compile time.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn name_arc(&self) -> &Arc<str> {
        &self.name
    }

    /// The kind the source document was parsed as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// Number of statements.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Whether the policy has any Deny statement.
    pub fn has_deny(&self) -> bool {
        !self.denies.is_empty()
    }

    /// Evaluates the policy's statements against the request.
    #[inline]
    pub(crate) fn verdict<S: StatementSink>(
        &self,
        ctx: &RequestContext,
        sink: &mut S,
    ) -> PolicyVerdict {
        let mut v = PolicyVerdict::default();
        let (a, b) = self.denies.candidates(ctx);
        for &pos in a.iter().chain(b.iter()) {
            if let Some(st) = self.statements.get(pos as usize) {
                if st.applies(ctx).is_some() {
                    v.deny = true;
                    sink.statement(self, st);
                    if !S::FULL {
                        return v;
                    }
                }
            }
        }
        let (a, b) = self.allows.candidates(ctx);
        for &pos in a.iter().chain(b.iter()) {
            if let Some(st) = self.statements.get(pos as usize) {
                if let Some(how) = st.applies(ctx) {
                    sink.statement(self, st);
                    v.allow = Some(v.allow.map_or(how, |h| h.max(how)));
                    if !S::FULL && how == PrincipalMatch::Exact {
                        return v;
                    }
                }
            }
        }
        v
    }
}
