//! awsJson decoding of arbitrary bodies for a few operations with lists, maps, blobs, enums,
//! timestamps and sensitive members; whatever decodes must also redact without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

const OPS: &[(&str, &str)] = &[
    ("kms", "Encrypt"),
    ("kms", "CreateKey"),
    ("kms", "CreateGrant"),
    ("secretsmanager", "CreateSecret"),
    ("ssm", "PutParameter"),
    ("ssm", "StartAutomationExecution"),
    ("cloudtrail", "LookupEvents"),
];

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else {
        return;
    };
    let (service, operation) = OPS[usize::from(*selector) % OPS.len()];
    let svc = rampart_wire::service(service).unwrap();
    let op = svc.operation(operation).unwrap();
    if let Ok(value) = rampart_wire::decode_json(svc, op, body) {
        assert!(value.is_object());
        let redacted = rampart_wire::redact_input(svc, op, &value);
        assert!(redacted.is_object());
    }
});
