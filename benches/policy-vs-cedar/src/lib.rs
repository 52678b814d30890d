//! One authorization model written twice: as AWS IAM policies (decided by rampart-policy) and
//! as Cedar policies (decided by cedar-policy). `Model::check_agreement` proves both give the
//! same answer on every benchmark request before anything is timed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::str::FromStr;
use std::sync::Arc;

use cedar_policy as cedar;
use rampart_policy as iam;
use serde_json::{Value, json};

pub const ACCOUNT: &str = "111122223333";
const TEAM: &str = "payments";
const SERVICES: [&str; 10] = [
    "s3",
    "dynamodb",
    "sqs",
    "sns",
    "lambda",
    "logs",
    "cloudwatch",
    "kms",
    "ec2",
    "secretsmanager",
];

/// An IAM statement plus enough structure to translate it to Cedar.
#[derive(Clone, Debug)]
struct Stmt {
    allow: bool,
    actions: Vec<String>,
    not_action: bool,
    resource: String,
    /// Conditions, each as (IAM operator, key, value, Cedar expression).
    conds: Vec<(&'static str, &'static str, &'static str, &'static str)>,
}

impl Stmt {
    fn iam(&self) -> Value {
        let mut s = serde_json::Map::new();
        s.insert(
            "Effect".into(),
            json!(if self.allow { "Allow" } else { "Deny" }),
        );
        s.insert(
            if self.not_action {
                "NotAction"
            } else {
                "Action"
            }
            .into(),
            json!(self.actions),
        );
        s.insert("Resource".into(), json!(self.resource));
        if !self.conds.is_empty() {
            let mut c = serde_json::Map::new();
            for (op, k, v, _) in &self.conds {
                c.entry(op.to_string())
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .unwrap()
                    .insert(k.to_string(), json!(v));
            }
            s.insert("Condition".into(), Value::Object(c));
        }
        Value::Object(s)
    }

    /// The statement's match as a Cedar boolean expression over `context`.
    fn cedar_expr(&self) -> String {
        let acts: Vec<String> = self
            .actions
            .iter()
            .map(|a| format!("context.action like \"{}\"", a.to_lowercase()))
            .collect();
        let mut act = format!("({})", acts.join(" || "));
        if self.not_action {
            act = format!("!{act}");
        }
        let res = if self.resource == "*" {
            "true".to_string()
        } else {
            format!(
                "context.arn like \"{}\"",
                self.resource.replace("${aws:PrincipalTag/team}", TEAM)
            )
        };
        let mut parts = vec![act, res];
        parts.extend(self.conds.iter().map(|c| c.3.to_string()));
        parts.join(" && ")
    }
}

fn doc(stmts: &[Stmt]) -> String {
    json!({"Version": "2012-10-17", "Statement": stmts.iter().map(Stmt::iam).collect::<Vec<_>>()})
        .to_string()
}

fn allow(actions: &[&str], resource: &str) -> Stmt {
    Stmt {
        allow: true,
        actions: actions.iter().map(|s| s.to_string()).collect(),
        not_action: false,
        resource: resource.to_string(),
        conds: vec![],
    }
}

/// One request, for both engines.
pub struct Req {
    pub name: &'static str,
    pub action: String,
    pub arn: String,
    pub region: &'static str,
    pub source_ip: &'static str,
    pub resource_team: &'static str,
    pub expect_allow: bool,
}

/// The compiled model for both engines.
pub struct Model {
    pub iam_set: iam::PolicySet,
    pub iam_requests: Vec<iam::RequestContext>,
    pub cedar_policies: cedar::PolicySet,
    pub cedar_entities: cedar::Entities,
    pub cedar_requests: Vec<cedar::Request>,
    pub requests: Vec<Req>,
    pub statements: usize,
}

fn compile(stmts: &[Stmt], kind: iam::PolicyKind, name: &str) -> Arc<iam::CompiledPolicy> {
    let text = doc(stmts);
    Arc::new(
        iam::Policy::parse(&text, kind)
            .unwrap_or_else(|e| panic!("{e}: {text}"))
            .compile(name),
    )
}

fn principal() -> iam::Principal {
    iam::Principal::role_session(
        &format!("arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"),
        ACCOUNT,
        &format!("arn:aws:iam::{ACCOUNT}:role/app"),
        "AROAAPP:s1",
    )
    .with_tag("team", TEAM)
}

fn iam_request(r: &Req) -> iam::RequestContext {
    let mut ctx = iam::RequestContext::new(principal(), &r.action, &r.arn)
        .with_resource_account(ACCOUNT)
        .with_time(1_767_225_600)
        .with_source_ip(r.source_ip.parse().unwrap())
        .with("aws:RequestedRegion", r.region);
    ctx.set(
        "aws:ResourceTag/team",
        iam::ContextValue::string(r.resource_team),
    );
    ctx
}

fn cedar_request(r: &Req) -> cedar::Request {
    let ctx = cedar::Context::from_json_value(
        json!({
            "action": r.action.to_lowercase(),
            "arn": r.arn,
            "region": r.region,
            "source_ip": {"__extn": {"fn": "ip", "arg": r.source_ip}},
            "resource_tag_team": r.resource_team,
        }),
        None,
    )
    .unwrap();
    cedar::Request::new(
        cedar::EntityUid::from_str(r#"Role::"app""#).unwrap(),
        cedar::EntityUid::from_str(r#"Action::"call""#).unwrap(),
        cedar::EntityUid::from_str(r#"Resource::"any""#).unwrap(),
        ctx,
        None,
    )
    .unwrap()
}

fn cedar_entities() -> cedar::Entities {
    cedar::Entities::from_json_value(
        json!([{"uid": {"type": "Role", "id": "app"}, "attrs": {"team": TEAM}, "parents": []}]),
        None,
    )
    .unwrap()
}

/// Cedar text: identity statements as permit/forbid; each guardrail (boundary, SCP level) as
/// "forbid unless one of its Allow statements matches" plus a forbid per Deny statement.
fn cedar_text(identity: &[Vec<Stmt>], guardrails: &[Vec<Stmt>]) -> String {
    let mut out = String::new();
    for p in identity {
        for s in p {
            let head = if s.allow { "permit" } else { "forbid" };
            out.push_str(&format!(
                "{head}(principal, action, resource) when {{ {} }};\n",
                s.cedar_expr()
            ));
        }
    }
    for g in guardrails {
        let allows: Vec<String> = g
            .iter()
            .filter(|s| s.allow)
            .map(|s| format!("({})", s.cedar_expr()))
            .collect();
        out.push_str(&format!(
            "forbid(principal, action, resource) unless {{ {} }};\n",
            if allows.is_empty() {
                "false".to_string()
            } else {
                allows.join(" || ")
            }
        ));
        for s in g.iter().filter(|s| !s.allow) {
            out.push_str(&format!(
                "forbid(principal, action, resource) when {{ {} }};\n",
                s.cedar_expr()
            ));
        }
    }
    out
}

fn build(
    identity: Vec<Vec<Stmt>>,
    boundary: Option<Vec<Stmt>>,
    scp: Vec<Vec<Stmt>>,
    requests: Vec<Req>,
) -> Model {
    let statements = identity.iter().map(Vec::len).sum();
    let mut set = iam::PolicySet::default();
    for (i, p) in identity.iter().enumerate() {
        set.identity.push(compile(
            p,
            iam::PolicyKind::AwsManaged,
            &format!("managed-{i}"),
        ));
    }
    set.permissions_boundary = boundary
        .as_ref()
        .map(|b| compile(b, iam::PolicyKind::AwsManaged, "boundary"));
    if !scp.is_empty() {
        set.scp = Some(iam::OrgPolicies {
            management_account: "999999999999".into(),
            levels: scp
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    vec![compile(
                        l,
                        iam::PolicyKind::ServiceControl,
                        &format!("scp-{i}"),
                    )]
                })
                .collect(),
        });
    }
    let mut guardrails: Vec<Vec<Stmt>> = boundary.into_iter().collect();
    guardrails.extend(scp);
    let cedar_policies: cedar::PolicySet = cedar_text(&identity, &guardrails).parse().unwrap();
    Model {
        iam_set: set,
        iam_requests: requests.iter().map(iam_request).collect(),
        cedar_policies,
        cedar_entities: cedar_entities(),
        cedar_requests: requests.iter().map(cedar_request).collect(),
        requests,
        statements,
    }
}

impl Model {
    /// The realistic principal: 10 managed policies with 60 statements (wildcards, three
    /// conditions, Deny statements), a permissions boundary and a two-level SCP chain; eight
    /// requests, half allowed and half denied.
    pub fn realistic() -> Model {
        let mut identity = Vec::new();
        for (k, svc) in SERVICES.iter().enumerate() {
            let r = |name: &str| format!("arn:aws:{svc}:*:{ACCOUNT}:{name}");
            let mut read = allow(
                &[
                    &format!("{svc}:Get*"),
                    &format!("{svc}:List*"),
                    &format!("{svc}:Describe*"),
                ],
                &r(&format!("{TEAM}-*")),
            );
            let mut write = allow(
                &[
                    &format!("{svc}:Put*"),
                    &format!("{svc}:Create*"),
                    &format!("{svc}:Send*"),
                ],
                &format!("arn:aws:{svc}:us-east-1:{ACCOUNT}:{TEAM}-*/*"),
            );
            let mut update = allow(
                &[&format!("{svc}:Update*"), &format!("{svc}:Decrypt")],
                &r("${aws:PrincipalTag/team}-*"),
            );
            match k {
                0 => read.conds.push((
                    "IpAddress",
                    "aws:SourceIp",
                    "10.0.0.0/8",
                    "context.source_ip.isInRange(ip(\"10.0.0.0/8\"))",
                )),
                1 => write.conds.push((
                    "StringEquals",
                    "aws:RequestedRegion",
                    "us-east-1",
                    "context.region == \"us-east-1\"",
                )),
                7 => update.conds.push((
                    "StringEquals",
                    "aws:ResourceTag/team",
                    "${aws:PrincipalTag/team}",
                    "context.resource_tag_team == principal.team",
                )),
                _ => {}
            }
            let mut deny = allow(&[&format!("{svc}:Delete*")], &r("prod-*"));
            deny.allow = false;
            identity.push(vec![
                read,
                write,
                update,
                allow(&[&format!("{svc}:Tag*"), &format!("{svc}:Untag*")], "*"),
                allow(&[&format!("{svc}:Delete*")], &r("tmp-*")),
                deny,
            ]);
        }
        let mut boundary: Vec<Stmt> = SERVICES
            .iter()
            .filter(|s| **s != "ec2")
            .map(|s| allow(&[&format!("{s}:*")], "*"))
            .collect();
        boundary.push(allow(&["ec2:Describe*"], "*"));
        let mut no_iam = allow(&["iam:*"], "*");
        no_iam.allow = false;
        boundary.push(no_iam);
        let root = vec![allow(&["*"], "*")];
        let mut region_guard = allow(&["iam:*", "organizations:*", "sts:*"], "*");
        region_guard.allow = false;
        region_guard.not_action = true;
        region_guard.conds.push((
            "StringNotEquals",
            "aws:RequestedRegion",
            "us-east-1",
            "context.region != \"us-east-1\"",
        ));
        let ou = vec![allow(&["*"], "*"), region_guard];
        let arn = |svc: &str, name: &str| format!("arn:aws:{svc}:us-east-1:{ACCOUNT}:{name}");
        let req = |name, action: &str, arn: String, region, ip, team, expect_allow| Req {
            name,
            action: action.to_string(),
            arn,
            region,
            source_ip: ip,
            resource_team: team,
            expect_allow,
        };
        let requests = vec![
            req(
                "s3 read from the office",
                "s3:GetObject",
                arn("s3", "payments-data"),
                "us-east-1",
                "10.1.2.3",
                TEAM,
                true,
            ),
            req(
                "dynamodb write",
                "dynamodb:PutItem",
                arn("dynamodb", "payments-table/item"),
                "us-east-1",
                "192.0.2.1",
                TEAM,
                true,
            ),
            req(
                "kms decrypt own team's key",
                "kms:Decrypt",
                arn("kms", "payments-key"),
                "us-east-1",
                "192.0.2.1",
                TEAM,
                true,
            ),
            req(
                "lambda list",
                "lambda:ListFunctions",
                arn("lambda", "payments-fn"),
                "us-east-1",
                "192.0.2.1",
                TEAM,
                true,
            ),
            req(
                "s3 read from outside the office",
                "s3:GetObject",
                arn("s3", "payments-data"),
                "us-east-1",
                "192.0.2.1",
                TEAM,
                false,
            ),
            req(
                "delete in prod (explicit deny)",
                "sqs:DeleteQueue",
                arn("sqs", "prod-queue"),
                "us-east-1",
                "192.0.2.1",
                TEAM,
                false,
            ),
            req(
                "ec2 run (outside the boundary)",
                "ec2:RunInstances",
                arn("ec2", "payments-i"),
                "us-east-1",
                "192.0.2.1",
                TEAM,
                false,
            ),
            req(
                "secrets in another region (SCP)",
                "secretsmanager:GetSecretValue",
                arn("secretsmanager", "payments-s"),
                "ap-south-1",
                "192.0.2.1",
                TEAM,
                false,
            ),
        ];
        build(identity, Some(boundary), vec![root, ou], requests)
    }

    /// One policy with `n` statements over 50 services; the request matches the last one.
    pub fn scaled(n: usize) -> Model {
        let stmts: Vec<Stmt> = (0..n)
            .map(|i| {
                allow(
                    &[
                        &format!("svc{}:Get*", i % 50),
                        &format!("svc{}:List*", i % 50),
                    ],
                    &format!("arn:aws:svc{}:*:{ACCOUNT}:res-{i}-*", i % 50),
                )
            })
            .collect();
        let last = n - 1;
        let requests = vec![Req {
            name: "matches the last statement",
            action: format!("svc{}:GetThing", last % 50),
            arn: format!("arn:aws:svc{}:us-east-1:{ACCOUNT}:res-{last}-x", last % 50),
            region: "us-east-1",
            source_ip: "10.0.0.1",
            resource_team: TEAM,
            expect_allow: true,
        }];
        build(vec![stmts], None, vec![], requests)
    }

    /// Panics unless both engines decide every request as expected.
    pub fn check_agreement(&self) {
        let authorizer = cedar::Authorizer::new();
        for (i, r) in self.requests.iter().enumerate() {
            let ours = iam::evaluate(&self.iam_set, &self.iam_requests[i]).is_allowed();
            let theirs = authorizer
                .is_authorized(
                    &self.cedar_requests[i],
                    &self.cedar_policies,
                    &self.cedar_entities,
                )
                .decision()
                == cedar::Decision::Allow;
            assert_eq!(ours, r.expect_allow, "rampart-policy on {}", r.name);
            assert_eq!(theirs, r.expect_allow, "cedar-policy on {}", r.name);
        }
    }
}
