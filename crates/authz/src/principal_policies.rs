//! Loading and compiling the policies of one principal from IAM's records.
use std::sync::Arc;

use rampart_aws_types::AwsError;
use rampart_iam::model::{self, PolicySource, PrincipalRef, SourcedPolicy};
use rampart_policy::{CompiledPolicy, Policy, PolicyKind, PolicySet, Principal as EnginePrincipal};
use rampart_services::{Principal, PrincipalKind};
use rampart_store::{ReadTxn, Store};

/// A principal's compiled policies, valid while the authorizer's epoch is unchanged.
pub struct CachedPrincipal {
    pub epoch: u64,
    /// Identity, boundary and session policies; the resource policy is added per request.
    pub set: PolicySet,
    /// The caller as the engine sees it, with its tags.
    pub principal: EnginePrincipal,
}

/// Sessions carry their own session policies, so each session is its own cache entry.
pub fn cache_key(p: &Principal) -> String {
    match (&p.kind, &p.session) {
        (PrincipalKind::AssumedRole { .. } | PrincipalKind::FederatedUser { .. }, _) => {
            format!("session:{}", p.access_key_id)
        }
        (PrincipalKind::IamUser { name }, _) => {
            format!("user:{}:{}", p.account, name.to_lowercase())
        }
        (PrincipalKind::Root, _) => format!("root:{}", p.account),
        (PrincipalKind::Anonymous, _) => "anonymous".to_string(),
        (PrincipalKind::WebIdentity { provider }, _) => format!("web:{provider}"),
    }
}

/// An identity policy allowing everything: what a root-issued federation token starts from.
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

pub fn load(store: &Store, p: &Principal, epoch: u64) -> Result<CachedPrincipal, AwsError> {
    let p = p.clone();
    store.read_blocking(move |tx| load_in(tx, &p, epoch))
}

fn load_in(tx: &mut dyn ReadTxn, p: &Principal, epoch: u64) -> Result<CachedPrincipal, AwsError> {
    let account = p.account.as_str();
    let mut set = PolicySet::default();
    let principal = match &p.kind {
        PrincipalKind::Root => EnginePrincipal::root(account),
        // No identity policies: only a resource (trust) policy can let these in.
        PrincipalKind::Anonymous => EnginePrincipal::anonymous(),
        PrincipalKind::WebIdentity { provider } => EnginePrincipal::web_identity(provider),
        PrincipalKind::IamUser { name } => {
            let loaded = model::load_principal_policies(tx, account, PrincipalRef::User(name))?;
            fill(
                &mut set,
                &loaded.identity,
                loaded.boundary.as_ref(),
                PolicyKind::InlineUser,
            )?;
            let mut engine = EnginePrincipal::user(&p.arn, account, name, &p.user_id);
            engine.tags = loaded
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect();
            engine
        }
        PrincipalKind::AssumedRole { role_name, .. } => {
            let session = p
                .session
                .as_ref()
                .ok_or_else(|| AwsError::internal("role session without session facts"))?;
            let loaded =
                model::load_principal_policies(tx, account, PrincipalRef::Role(role_name))?;
            fill(
                &mut set,
                &loaded.identity,
                loaded.boundary.as_ref(),
                PolicyKind::InlineRole,
            )?;
            set.session = session_policies(
                tx,
                account,
                session.policy.as_deref(),
                &session.policy_arns,
                false,
            )?;
            let mut engine =
                EnginePrincipal::role_session(&p.arn, account, &session.issuer_arn, &p.user_id);
            engine.tags = loaded
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect();
            // Session tags override the role's tags with the same key.
            for (k, v) in &session.tags {
                engine.tags.retain(|(ek, _)| !ek.eq_ignore_ascii_case(k));
                engine.tags.push((k.clone(), v.clone()));
            }
            engine
        }
        PrincipalKind::FederatedUser { .. } => {
            let session = p
                .session
                .as_ref()
                .ok_or_else(|| AwsError::internal("federated session without session facts"))?;
            let issuer_user = session
                .issuer_arn
                .rsplit_once(":user/")
                .map(|(_, rest)| rest.rsplit('/').next().unwrap_or(rest).to_string());
            match issuer_user {
                Some(user) => {
                    let loaded =
                        model::load_principal_policies(tx, account, PrincipalRef::User(&user))?;
                    fill(
                        &mut set,
                        &loaded.identity,
                        loaded.boundary.as_ref(),
                        PolicyKind::InlineUser,
                    )?;
                }
                None => {
                    set.identity
                        .push(compile(ALLOW_ALL, PolicyKind::Managed, "root permissions")?)
                }
            }
            // A federation token without a session policy grants nothing.
            set.session = Some(
                session_policies(
                    tx,
                    account,
                    session.policy.as_deref(),
                    &session.policy_arns,
                    true,
                )?
                .unwrap_or_default(),
            );
            let mut engine =
                EnginePrincipal::federated_user(&p.arn, account, &session.issuer_arn, &p.user_id);
            engine.tags = session.tags.clone();
            engine
        }
    };
    Ok(CachedPrincipal {
        epoch,
        set,
        principal,
    })
}

fn compile(document: &str, kind: PolicyKind, name: &str) -> Result<Arc<CompiledPolicy>, AwsError> {
    let policy = Policy::parse(document, kind)
        .map_err(|e| AwsError::internal(format!("stored policy {name} does not parse: {e}")))?;
    Ok(Arc::new(policy.compile(name)))
}

fn source_name(source: &PolicySource) -> (String, bool) {
    match source {
        PolicySource::Inline { name } => (name.clone(), true),
        PolicySource::GroupInline { group, name } => (format!("{group}/{name}"), true),
        PolicySource::Managed { arn, .. } | PolicySource::GroupManaged { arn, .. } => {
            (arn.clone(), false)
        }
    }
}

fn managed_kind(arn: &str) -> PolicyKind {
    if arn.starts_with("arn:aws:iam::aws:policy/") {
        PolicyKind::AwsManaged
    } else {
        PolicyKind::Managed
    }
}

fn fill(
    set: &mut PolicySet,
    identity: &[SourcedPolicy],
    boundary: Option<&SourcedPolicy>,
    inline_kind: PolicyKind,
) -> Result<(), AwsError> {
    for sourced in identity {
        let (name, inline) = source_name(&sourced.source);
        let kind = match &sourced.source {
            PolicySource::GroupInline { .. } => PolicyKind::InlineGroup,
            _ if inline => inline_kind,
            _ => managed_kind(&name),
        };
        set.identity.push(compile(&sourced.document, kind, &name)?);
    }
    if let Some(b) = boundary {
        let (name, _) = source_name(&b.source);
        set.permissions_boundary = Some(compile(&b.document, managed_kind(&name), &name)?);
    }
    Ok(())
}

/// `None` when the session was created without session policies (they then do not limit it),
/// unless `required` (federation tokens).
fn session_policies(
    tx: &mut dyn ReadTxn,
    account: &str,
    inline: Option<&str>,
    arns: &[String],
    required: bool,
) -> Result<Option<Vec<Arc<CompiledPolicy>>>, AwsError> {
    let mut out = Vec::new();
    if let Some(doc) = inline {
        out.push(compile(doc, PolicyKind::Session, "session policy")?);
    }
    for arn in arns {
        if let Some((_, doc, _)) = model::managed_default(tx, account, arn)? {
            out.push(compile(&doc, managed_kind(arn), arn)?);
        }
    }
    Ok(if out.is_empty() && !required {
        None
    } else {
        Some(out)
    })
}
