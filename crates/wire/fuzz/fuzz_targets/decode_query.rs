//! awsQuery decoding of arbitrary form bodies for a few IAM/STS operations; successful decodes
//! must also encode as a response of a query operation without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

const OPS: &[(&str, &str)] = &[
    ("iam", "CreateUser"),
    ("iam", "CreateOpenIDConnectProvider"),
    ("iam", "UpdateAccountPasswordPolicy"),
    ("iam", "ListUsers"),
    ("iam", "PutUserPolicy"),
    ("sts", "AssumeRole"),
    ("sts", "AssumeRoleWithSAML"),
];

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else {
        return;
    };
    let (service, operation) = OPS[usize::from(*selector) % OPS.len()];
    let svc = rampart_wire::service(service).unwrap();
    let op = svc.operation(operation).unwrap();
    let params = rampart_wire::parse_form(body);
    if let Ok(value) = rampart_wire::decode_query(svc, op, &params) {
        assert!(value.is_object());
        let _ = rampart_wire::redact_input(svc, op, &value);
        // The decoded value fed to an encoder must not panic either (shapes differ; members that
        // do not fit are skipped).
        let _ = rampart_wire::encode_query(svc, op, &value, "fuzz");
    }
});
