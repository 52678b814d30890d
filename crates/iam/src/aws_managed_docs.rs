//! The documents of the shipped AWS managed policies, written for Rampart from AWS's public
//! documentation (the AWS Managed Policy Reference Guide).
use crate::aws_managed::AwsManagedPolicy;

pub const POLICIES: &[AwsManagedPolicy] = &[AwsManagedPolicy {
    name: "AdministratorAccess",
    path: "/",
    version_id: "v1",
    description: "Provides full access to AWS services and resources.",
    create_date: 1_423_248_000,
    update_date: 1_423_248_000,
    document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
}];
