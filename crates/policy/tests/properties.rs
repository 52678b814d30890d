//! Properties of the decision that must hold for every policy set and request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use proptest::prelude::*;
use rampart_policy::*;
use serde_json::{Value, json};

/// The finite universe of actions the properties range over.
const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "ec2:RunInstances",
    "ec2:DescribeInstances",
    "iam:CreateUser",
    "iam:GetUser",
    "kms:Decrypt",
    "kms:Encrypt",
];
const ACTION_PATTERNS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "ec2:RunInstances",
    "iam:GetUser",
    "kms:Decrypt",
    "s3:*",
    "s3:Get*",
    "*",
    "ec2:Describe*",
    "iam:*User",
    "kms:?ecrypt",
];
const RESOURCES: &[&str] = &[
    "arn:aws:s3:::b/a",
    "arn:aws:s3:::b/x/y",
    "arn:aws:s3:::c/a",
    "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
];
const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::c/a",
    "arn:aws:s3:::*/a",
    "arn:aws:ec2:*:111122223333:instance/*",
];

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(json!({"StringEquals": {"s3:prefix": "p1"}}))),
        1 => Just(Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
        1 => Just(Some(json!({"StringNotEquals": {"s3:prefix": "p2"}}))),
        1 => Just(Some(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))),
        1 => Just(Some(json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}))),
        1 => Just(Some(json!({"ForAllValues:StringLike": {"aws:TagKeys": ["a*"]}}))),
    ]
}

fn statement(effect: Option<&'static str>) -> impl Strategy<Value = Value> {
    let eff = match effect {
        Some(e) => Just(e).boxed(),
        None => prop_oneof![3 => Just("Allow"), 1 => Just("Deny")].boxed(),
    };
    (
        eff,
        any::<bool>(),
        proptest::sample::subsequence(ACTION_PATTERNS, 1..3),
        proptest::bool::weighted(0.15),
        proptest::sample::subsequence(RESOURCE_PATTERNS, 1..3),
        condition(),
    )
        .prop_map(|(e, not_action, acts, not_res, res, cond)| {
            let mut s = serde_json::Map::new();
            s.insert("Effect".into(), json!(e));
            s.insert(
                if not_action && e == "Deny" {
                    "NotAction"
                } else {
                    "Action"
                }
                .into(),
                json!(acts),
            );
            s.insert(
                if not_res { "NotResource" } else { "Resource" }.into(),
                json!(res),
            );
            if let Some(c) = cond {
                s.insert("Condition".into(), c);
            }
            Value::Object(s)
        })
}

fn policy() -> impl Strategy<Value = Vec<Value>> {
    proptest::collection::vec(statement(None), 1..5)
}

/// A resource policy statement naming one of the principals the requests use.
fn resource_statement() -> impl Strategy<Value = Value> {
    (
        statement(None),
        prop_oneof![
            Just(json!("*")),
            Just(json!({"AWS": "111122223333"})),
            Just(json!({"AWS": "arn:aws:iam::111122223333:user/alice"})),
            Just(json!({"AWS": "arn:aws:iam::111122223333:role/dev"})),
            Just(json!({"AWS": "arn:aws:sts::111122223333:assumed-role/dev/s1"})),
        ],
    )
        .prop_map(|(mut s, p)| {
            s.as_object_mut().unwrap().insert("Principal".into(), p);
            s
        })
}

#[derive(Debug, Clone)]
struct Model {
    identity: Vec<Vec<Value>>,
    boundary: Option<Vec<Value>>,
    session: Option<Vec<Value>>,
    resource: Option<Vec<Value>>,
    scp: Option<Vec<Vec<Value>>>,
}

fn model() -> impl Strategy<Value = Model> {
    (
        proptest::collection::vec(policy(), 0..4),
        proptest::option::weighted(0.4, policy()),
        proptest::option::weighted(0.3, policy()),
        proptest::option::weighted(0.5, proptest::collection::vec(resource_statement(), 1..4)),
        proptest::option::weighted(0.3, proptest::collection::vec(policy(), 1..3)),
    )
        .prop_map(|(identity, boundary, session, resource, scp)| Model {
            identity,
            boundary,
            session,
            resource,
            scp,
        })
}

#[derive(Debug, Clone)]
struct Request {
    role: bool,
    cross_account: bool,
    action: &'static str,
    resource: &'static str,
    prefix: Option<&'static str>,
    tls: Option<bool>,
    ip: Option<&'static str>,
    tag_keys: Option<Vec<&'static str>>,
}

fn request() -> impl Strategy<Value = Request> {
    (
        any::<bool>(),
        proptest::bool::weighted(0.2),
        proptest::sample::select(ACTIONS),
        proptest::sample::select(RESOURCES),
        proptest::option::of(proptest::sample::select(&["p1", "p2", "p3"][..])),
        proptest::option::of(any::<bool>()),
        proptest::option::of(proptest::sample::select(&["10.1.2.3", "192.0.2.1"][..])),
        proptest::option::of(proptest::sample::subsequence(&["a", "ab", "b"][..], 0..3)),
    )
        .prop_map(
            |(role, cross_account, action, resource, prefix, tls, ip, tag_keys)| Request {
                role,
                cross_account,
                action,
                resource,
                prefix,
                tls,
                ip,
                tag_keys,
            },
        )
}

fn doc(stmts: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": stmts}).to_string()
}

fn compile(stmts: &[Value], kind: PolicyKind, name: &str) -> Arc<CompiledPolicy> {
    let text = doc(stmts);
    Arc::new(
        Policy::parse(&text, kind)
            .unwrap_or_else(|e| panic!("{e}: {text}"))
            .compile(name),
    )
}

fn build(m: &Model) -> PolicySet {
    PolicySet {
        identity: m
            .identity
            .iter()
            .enumerate()
            .map(|(i, p)| compile(p, PolicyKind::AwsManaged, &format!("id{i}")))
            .collect(),
        permissions_boundary: m
            .boundary
            .as_ref()
            .map(|p| compile(p, PolicyKind::AwsManaged, "boundary")),
        session: m
            .session
            .as_ref()
            .map(|p| vec![compile(p, PolicyKind::Session, "session")]),
        scp: m.scp.as_ref().map(|levels| OrgPolicies {
            management_account: "999999999999".into(),
            levels: levels
                .iter()
                .enumerate()
                .map(|(i, p)| vec![compile(p, PolicyKind::ServiceControl, &format!("scp{i}"))])
                .collect(),
        }),
        resource: m
            .resource
            .as_ref()
            .map(|p| compile(p, PolicyKind::Resource, "resource")),
        rcp: None,
        vpc_endpoint: None,
        resource_mode: ResourceMode::Standard,
    }
}

fn context(r: &Request) -> RequestContext {
    let p = if r.role {
        Principal::role_session(
            "arn:aws:sts::111122223333:assumed-role/dev/s1",
            "111122223333",
            "arn:aws:iam::111122223333:role/dev",
            "AROADEV:s1",
        )
    } else {
        Principal::user(
            "arn:aws:iam::111122223333:user/alice",
            "111122223333",
            "alice",
            "AIDAALICE",
        )
    };
    let mut ctx = RequestContext::new(p, r.action, r.resource);
    if r.cross_account {
        ctx = ctx.with_resource_account("444455556666");
    }
    if let Some(x) = r.prefix {
        ctx.set("s3:prefix", ContextValue::string(x));
    }
    if let Some(t) = r.tls {
        ctx.set("aws:SecureTransport", ContextValue::bool(t));
    }
    if let Some(ip) = r.ip {
        ctx.set("aws:SourceIp", ContextValue::ip(ip.parse().unwrap()));
    }
    if let Some(keys) = &r.tag_keys {
        ctx.set_multi(
            "aws:TagKeys",
            keys.iter().map(|k| ContextValue::string(k)).collect(),
        );
    }
    ctx
}

fn outcome(m: &Model, r: &Request) -> (Outcome, Option<PolicyType>) {
    let set = build(m);
    let ctx = context(r);
    let d = evaluate(&set, &ctx);
    assert_eq!(decide(&set, &ctx), (d.outcome, d.denied_by));
    (d.outcome, d.denied_by)
}

/// Where an added Deny statement goes.
#[derive(Debug, Clone, Copy)]
enum Place {
    Identity,
    Boundary,
    Session,
    Resource,
    Scp,
}

fn add_deny(m: &Model, place: Place, deny: Value, principal: Value) -> Model {
    let mut m = m.clone();
    match place {
        Place::Identity => match m.identity.first_mut() {
            Some(p) => p.push(deny),
            None => m.identity.push(vec![deny]),
        },
        Place::Boundary => {
            if let Some(b) = m.boundary.as_mut() {
                b.push(deny);
            }
        }
        Place::Session => {
            if let Some(s) = m.session.as_mut() {
                s.push(deny);
            }
        }
        Place::Resource => {
            let mut d = deny;
            d.as_object_mut()
                .unwrap()
                .insert("Principal".into(), principal);
            m.resource.get_or_insert_with(Vec::new).push(d);
        }
        Place::Scp => {
            if let Some(levels) = m.scp.as_mut() {
                if let Some(l) = levels.last_mut() {
                    l.push(deny);
                }
            }
        }
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Adding a Deny statement anywhere never turns a denial into an allow (and never turns an
    /// explicit deny into anything else).
    #[test]
    fn adding_a_deny_never_allows(
        m in model(),
        r in request(),
        deny in statement(Some("Deny")),
        place in prop_oneof![Just(Place::Identity), Just(Place::Boundary), Just(Place::Session), Just(Place::Resource), Just(Place::Scp)],
        principal in prop_oneof![Just(json!("*")), Just(json!({"AWS": "111122223333"}))],
    ) {
        let before = outcome(&m, &r).0;
        let after = outcome(&add_deny(&m, place, deny, principal), &r).0;
        if before != Outcome::Allow {
            prop_assert_ne!(after, Outcome::Allow);
        }
        if before == Outcome::ExplicitDeny {
            prop_assert_eq!(after, Outcome::ExplicitDeny);
        }
    }

    /// Reversing or rotating statements inside every policy and the order of identity policies
    /// changes nothing.
    #[test]
    fn order_never_matters(m in model(), r in request(), rot in 0usize..5) {
        let before = outcome(&m, &r);
        let mut shuffled = m.clone();
        for p in shuffled.identity.iter_mut() {
            p.reverse();
            let n = p.len();
            p.rotate_left(rot % n.max(1));
        }
        shuffled.identity.reverse();
        if let Some(b) = shuffled.boundary.as_mut() { b.reverse(); }
        if let Some(s) = shuffled.session.as_mut() { s.reverse(); }
        if let Some(res) = shuffled.resource.as_mut() { res.reverse(); }
        if let Some(l) = shuffled.scp.as_mut() { for p in l.iter_mut() { p.reverse(); } l.reverse(); }
        prop_assert_eq!(outcome(&shuffled, &r), before);
    }

    /// `NotAction: X` decides exactly like `Action: every action of the universe except X`.
    #[test]
    fn not_action_is_the_complement(
        excluded in proptest::sample::subsequence(ACTIONS, 1..5),
        services in proptest::sample::subsequence(&["s3", "ec2", "iam", "kms"][..], 0..2),
        action in proptest::sample::select(ACTIONS),
        effect in prop_oneof![Just("Allow"), Just("Deny")],
    ) {
        // X: some literal actions plus some whole services (`svc:*`).
        let mut x: Vec<String> = excluded.iter().map(|s| s.to_string()).collect();
        x.extend(services.iter().map(|s| format!("{s}:*")));
        let in_x = |a: &str| excluded.contains(&a) || services.iter().any(|s| a.starts_with(&format!("{s}:")));
        let rest: Vec<&str> = ACTIONS.iter().copied().filter(|a| !in_x(a)).collect();
        let base = json!({"Effect": "Allow", "Action": "*", "Resource": "*"});
        let not = json!({"Effect": effect, "NotAction": x, "Resource": "*"});
        let mut stmts_not = vec![not];
        let mut stmts_act = if rest.is_empty() { vec![] } else { vec![json!({"Effect": effect, "Action": rest, "Resource": "*"})] };
        if effect == "Deny" {
            stmts_not.push(base.clone());
            stmts_act.push(base);
        }
        let ctx = RequestContext::new(
            Principal::user("arn:aws:iam::111122223333:user/alice", "111122223333", "alice", "AIDA"),
            action,
            "*",
        );
        let decide_with = |stmts: &Vec<Value>| {
            if stmts.is_empty() {
                return Outcome::ImplicitDeny;
            }
            let set = PolicySet { identity: vec![compile(stmts, PolicyKind::Managed, "p")], ..Default::default() };
            evaluate(&set, &ctx).outcome
        };
        prop_assert_eq!(decide_with(&stmts_not), decide_with(&stmts_act));
    }

    /// A permissions boundary only ever narrows: allowed with it implies allowed without it.
    #[test]
    fn a_boundary_never_widens(m in model(), r in request(), boundary in policy()) {
        let mut without = m.clone();
        without.boundary = None;
        let mut with = m.clone();
        with.boundary = Some(boundary);
        if outcome(&with, &r).0 == Outcome::Allow {
            prop_assert_eq!(outcome(&without, &r).0, Outcome::Allow);
        }
    }

    /// SCPs and session policies only ever narrow too.
    #[test]
    fn guardrails_never_widen(m in model(), r in request()) {
        let allowed = outcome(&m, &r).0 == Outcome::Allow;
        let mut bare = m.clone();
        bare.scp = None;
        bare.session = None;
        if allowed {
            prop_assert_eq!(outcome(&bare, &r).0, Outcome::Allow);
        }
    }
}
