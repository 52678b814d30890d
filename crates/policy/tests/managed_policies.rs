//! Every AWS managed policy in the shared vectors parses, validates and compiles.
//! The vectors are GPL-licensed test inputs: they are read from `../shared`, never copied here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use rampart_policy::{Policy, PolicyKind};
use serde_json::Value;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/aws-managed-policies/policies")
}

/// The document of one `get-policy-version` output; `None` for the two deprecated empty files.
fn document(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return None;
    }
    let v: Value = serde_json::from_str(text).unwrap();
    match &v["PolicyVersion"]["Document"] {
        Value::String(s) => Some(s.clone()),
        d @ Value::Object(_) => Some(d.to_string()),
        other => panic!("unexpected document {other}"),
    }
}

#[test]
fn every_aws_managed_policy_parses_validates_and_compiles() {
    let dir = vectors();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "the AWS managed policy vectors are missing at {}: {e}",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    let (mut parsed, mut empty, mut statements) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let Some(doc) = document(&text) else {
            empty += 1;
            continue;
        };
        match Policy::parse(&doc, PolicyKind::AwsManaged) {
            Ok(p) => {
                let _findings = p.validate();
                let c = p.compile(&f.file_name().unwrap().to_string_lossy());
                assert_eq!(c.statement_count(), p.statements().len());
                statements += c.statement_count();
                parsed += 1;
            }
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    eprintln!("{parsed} managed policies ({statements} statements) parsed, {empty} empty files");
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 1,525 files, two of them empty (see the vectors' README).
    assert_eq!(files.len(), 1525, "the vector set changed");
    assert_eq!(empty, 2);
    assert_eq!(parsed, 1523);
}
