//! Embedded models and the lookups the server routes by.
use rampart_wire::Protocol;

#[test]
fn every_embedded_model_loads() {
    let names: Vec<&str> = rampart_wire::service_names().collect();
    assert_eq!(
        names,
        ["sts", "iam", "kms", "secretsmanager", "ssm", "cloudtrail"]
    );
    for name in names {
        let svc = rampart_wire::service(name).unwrap();
        assert_eq!(svc.name, name);
        assert!(svc.operation_names().count() > 5, "{name}");
        assert!(svc.shape_count() > 50, "{name}");
        assert_eq!(rampart_wire::protocol_of(name), Some(svc.protocol));
    }
}

#[test]
fn lookups_by_prefix_signing_name_and_endpoint() {
    assert_eq!(
        rampart_wire::service_by_target_prefix("TrentService")
            .unwrap()
            .name,
        "kms"
    );
    assert_eq!(
        rampart_wire::service_by_target_prefix("secretsmanager")
            .unwrap()
            .name,
        "secretsmanager"
    );
    assert_eq!(
        rampart_wire::service_by_target_prefix("AmazonSSM")
            .unwrap()
            .name,
        "ssm"
    );
    assert_eq!(
        rampart_wire::service_by_target_prefix(
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
        )
        .unwrap()
        .name,
        "cloudtrail"
    );
    assert!(rampart_wire::service_by_target_prefix("DynamoDB_20120810").is_none());
    assert_eq!(
        rampart_wire::service_by_signing_name("iam").unwrap().name,
        "iam"
    );
    assert_eq!(
        rampart_wire::service_by_signing_name("sts").unwrap().name,
        "sts"
    );
    assert_eq!(
        rampart_wire::service_by_signing_name("kms").unwrap().name,
        "kms"
    );
    assert!(rampart_wire::service_by_signing_name("s3").is_none());
    assert_eq!(
        rampart_wire::service_by_endpoint_prefix("secretsmanager")
            .unwrap()
            .name,
        "secretsmanager"
    );
    assert_eq!(
        rampart_wire::split_target(
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
        ),
        Some((
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
            "LookupEvents"
        ))
    );
    assert_eq!(
        rampart_wire::split_target("TrentService.Encrypt"),
        Some(("TrentService", "Encrypt"))
    );
    assert_eq!(rampart_wire::split_target("TrentService."), None);
    assert_eq!(rampart_wire::split_target("Encrypt"), None);
}

#[test]
fn metadata_is_what_the_server_needs() {
    let iam = rampart_wire::service("iam").unwrap();
    assert_eq!(iam.protocol, Protocol::AwsQuery);
    assert_eq!(
        iam.xml_namespace.as_deref(),
        Some("https://iam.amazonaws.com/doc/2010-05-08/")
    );
    assert_eq!(iam.api_version, "2010-05-08");
    assert!(iam.global);
    let sts = rampart_wire::service("sts").unwrap();
    assert!(!sts.global);
    assert_eq!(
        sts.xml_namespace.as_deref(),
        Some("https://sts.amazonaws.com/doc/2011-06-15/")
    );
    let kms = rampart_wire::service("kms").unwrap();
    assert_eq!(kms.protocol, Protocol::AwsJson1_1);
    assert_eq!(kms.protocol.content_type(), "application/x-amz-json-1.1");
    assert_eq!(kms.target_prefix.as_deref(), Some("TrentService"));
    assert_eq!(kms.json_version.as_deref(), Some("1.1"));
    assert_eq!(kms.json_error_message_key, "message");
    let op = iam.operation("ListUsers").unwrap();
    assert_eq!(op.result_wrapper.as_deref(), Some("ListUsersResult"));
    assert!(iam.operation("DeleteUser").unwrap().output.is_none());
    assert!(iam.operation("NoSuchOperation").is_none());
    let names: Vec<&str> = iam.operation_names().collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]));
    assert!(names.contains(&"CreateUser"));
}

#[test]
fn unsupported_patterns_are_few_and_known() {
    let mut total = 0;
    for name in rampart_wire::service_names() {
        let svc = rampart_wire::service(name).unwrap();
        for (shape, pattern) in svc.unchecked_patterns() {
            // Only SSM's ISO-8601 pattern (back-references) and its S3 URL pattern (a repetition
            // too large to compile) are left unchecked.
            assert!(
                [("ssm", "StringDateTime"), ("ssm", "TargetLocationsURL")].contains(&(name, shape)),
                "{name}.{shape}: {pattern}"
            );
            total += 1;
        }
    }
    assert_eq!(total, 2);
}

#[test]
#[ignore = "prints the unchecked patterns for the README"]
fn print_unchecked_patterns() {
    for name in rampart_wire::service_names() {
        let svc = rampart_wire::service(name).unwrap();
        for (shape, pattern) in svc.unchecked_patterns() {
            println!("{name}\t{shape}\t{pattern}");
        }
    }
}
