//! Cross-checks of the KMS core with implementations no one here wrote: Python's `cryptography`
//! (interpreter from `RAMPART_PYTHON`, default `python3`) and the `openssl` command line.
//!
//! Missing tools: with `CI=true` the test fails; elsewhere it says loudly that it skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use aws_lc_rs::digest;
use rampart_crypto::MasterKey;
use rampart_crypto::kms::*;

const MESSAGE: &[u8] = b"Rampart KMS cross-check message \x00\xff";

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

fn python() -> Option<String> {
    let py = std::env::var("RAMPART_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let ok = Command::new(&py)
        .args(["-c", "import cryptography"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return Some(py);
    }
    assert!(
        !in_ci(),
        "CI=true but `{py}` cannot import the `cryptography` package"
    );
    eprintln!("SKIPPED: `{py}` cannot import `cryptography`; Python cross-checks not run");
    None
}

fn hash_for(alg: SigningAlgorithm) -> &'static digest::Algorithm {
    match alg.digest_len() {
        Some(48) => &digest::SHA384,
        Some(64) => &digest::SHA512,
        _ => &digest::SHA256,
    }
}

fn signing_specs() -> Vec<KeySpec> {
    KeySpec::ALL
        .iter()
        .copied()
        .filter(|s| s.valid_usages().contains(&KeyUsage::SIGN_VERIFY))
        .collect()
}

fn parse_counts(stdout: &str) -> BTreeMap<String, usize> {
    stdout
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect()
}

#[test]
fn python_cryptography_agrees_with_every_algorithm() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = |name: &str, bytes: &[u8]| fs::write(d.join(name), bytes).unwrap();
    let mut manifest = String::new();
    w("message", MESSAGE);

    // 1. Signatures: every signing spec x algorithm, RAW and (where AWS has it) DIGEST. Python
    //    always verifies against the message, so a DIGEST signature must equal signing the message.
    let mut signatures = 0;
    for spec in signing_specs() {
        let key = KeyMaterial::generate(spec).unwrap();
        let pub_file = format!("{spec}.pub.der");
        w(&pub_file, &key.public_key_der().unwrap());
        for alg in spec.algorithms(KeyUsage::SIGN_VERIFY).signing {
            for mt in [MessageType::RAW, MessageType::DIGEST] {
                let input = match mt {
                    MessageType::DIGEST if alg.digest_len().is_none() => continue,
                    MessageType::DIGEST => {
                        digest::digest(hash_for(*alg), MESSAGE).as_ref().to_vec()
                    }
                    _ => MESSAGE.to_vec(),
                };
                let sig = sign(&key, *alg, mt, &input).unwrap();
                let sig_file = format!("{spec}.{alg}.{mt}.sig");
                w(&sig_file, &sig);
                manifest += &format!("sig {spec} {alg} {mt} {pub_file} message {sig_file}\n");
                signatures += 1;
            }
        }
    }
    assert_eq!(signatures, 25 + 22);

    // 2. RSA-OAEP: Python encrypts KMS-limit-sized plaintexts to our public keys.
    let mut rsa_keys = Vec::new();
    for spec in [KeySpec::RSA_2048, KeySpec::RSA_3072, KeySpec::RSA_4096] {
        let key = KeyMaterial::generate(spec).unwrap();
        let pub_file = format!("{spec}.enc.pub.der");
        w(&pub_file, &key.public_key_der().unwrap());
        for alg in spec.algorithms(KeyUsage::ENCRYPT_DECRYPT).encryption {
            let max = max_rsa_plaintext_len(spec, *alg).unwrap();
            manifest += &format!("oaep {spec} {alg} {pub_file} {max} oaep.{spec}.{alg}\n");
        }
        rsa_keys.push((spec, key));
    }

    // 3. Data key pairs: the private key loads in Python and matches the public key; Python
    //    signs with it (Rust verifies below) and decrypts what Rust encrypts to the pair.
    let sym_id = KeyId::parse("1234abcd-12ab-34cd-56ef-1234567890ab").unwrap();
    let sym = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT).unwrap();
    let sym_mid = MaterialId::derive(&sym_id, &sym);
    let sym_ref = SymmetricKeyRef {
        key_id: &sym_id,
        material_id: &sym_mid,
        material: &sym,
    };
    let mut pairs = Vec::new();
    for spec in DataKeyPairSpec::ALL {
        let pair = generate_data_key_pair(sym_ref, &EncryptionContext::new(), *spec).unwrap();
        w(&format!("dkp.{spec}.key"), &pair.private_key_plaintext);
        w(&format!("dkp.{spec}.pub"), &pair.public_key_der);
        let mut line = format!("dkp {spec} dkp.{spec}.key dkp.{spec}.pub message dkp.{spec}.pysig");
        let key_spec: KeySpec = (*spec).into();
        if key_spec.family() == KeyFamily::Rsa {
            let material = KeyMaterial::from_bytes(key_spec, &pair.private_key_plaintext).unwrap();
            let ct =
                rsa_encrypt(&material, EncryptionAlgorithm::RSAES_OAEP_SHA_256, MESSAGE).unwrap();
            w(&format!("dkp.{spec}.ct"), &ct);
            line += &format!(" dkp.{spec}.ct");
        }
        manifest += &line;
        manifest.push('\n');
        pairs.push((*spec, pair));
    }

    // 4. Import: Python wraps material for our wrapping keys, as a customer would.
    let master = MasterKey::from_bytes(&[5u8; 32]).unwrap();
    let now = 1_800_000_000;
    let material = KeyMaterial::generate(KeySpec::SYMMETRIC_DEFAULT).unwrap();
    w("import.material", &material.to_bytes());
    let ec_material = KeyMaterial::generate(KeySpec::ECC_NIST_P384).unwrap();
    w("import.ec.material", &ec_material.to_bytes());
    let mut imports = Vec::new();
    for (i, alg) in [
        WrappingAlgorithm::RSAES_OAEP_SHA_1,
        WrappingAlgorithm::RSAES_OAEP_SHA_256,
        WrappingAlgorithm::RSA_AES_KEY_WRAP_SHA_1,
        WrappingAlgorithm::RSA_AES_KEY_WRAP_SHA_256,
    ]
    .into_iter()
    .enumerate()
    {
        let params =
            get_parameters_for_import(&master, &sym_id, alg, WrappingKeySpec::RSA_2048, now)
                .unwrap();
        w(&format!("import.{i}.pub"), &params.public_key_der);
        manifest += &format!("wrap {alg} import.{i}.pub import.material import.{i}.wrapped\n");
        imports.push((
            format!("import.{i}.wrapped"),
            KeySpec::SYMMETRIC_DEFAULT,
            params,
        ));
        if alg == WrappingAlgorithm::RSA_AES_KEY_WRAP_SHA_256 {
            let params =
                get_parameters_for_import(&master, &sym_id, alg, WrappingKeySpec::RSA_2048, now)
                    .unwrap();
            w("import.ec.pub", &params.public_key_der);
            manifest += &format!("wrap {alg} import.ec.pub import.ec.material import.ec.wrapped\n");
            imports.push((
                "import.ec.wrapped".to_string(),
                KeySpec::ECC_NIST_P384,
                params,
            ));
        }
    }

    // 5. ECDH with a Python-generated peer.
    let mut ecdh = Vec::new();
    for spec in [
        KeySpec::ECC_NIST_P256,
        KeySpec::ECC_NIST_P384,
        KeySpec::ECC_NIST_P521,
    ] {
        let key = KeyMaterial::generate(spec).unwrap();
        w(&format!("ecdh.{spec}.pub"), &key.public_key_der().unwrap());
        manifest += &format!("ecdh {spec} ecdh.{spec}.pub ecdh.{spec}.peer ecdh.{spec}.secret\n");
        ecdh.push((spec, key));
    }

    // 6. HMAC against Python's standard library, every spec.
    for spec in [
        KeySpec::HMAC_224,
        KeySpec::HMAC_256,
        KeySpec::HMAC_384,
        KeySpec::HMAC_512,
    ] {
        let key = KeyMaterial::generate(spec).unwrap();
        let alg = spec.algorithms(KeyUsage::GENERATE_VERIFY_MAC).mac[0];
        w(&format!("mac.{spec}.key"), &key.to_bytes());
        w(
            &format!("mac.{spec}.mac"),
            &generate_mac(&key, alg, MESSAGE).unwrap(),
        );
        manifest += &format!("mac {alg} mac.{spec}.key message mac.{spec}.mac\n");
    }

    // 7. Ciphertext blobs decrypted by Python from the documented format alone (with a context
    //    whose keys arrive unsorted and include non-ASCII, and with none).
    w("blob.key", &sym.to_bytes());
    for (i, pairs) in [vec![], vec![("zeta", "1"), ("Alpha", "two"), ("é", "ü=x")]]
        .into_iter()
        .enumerate()
    {
        let context: EncryptionContext = pairs.iter().copied().collect();
        let pt = format!("blob plaintext {i}").into_bytes();
        w(
            &format!("blob.{i}"),
            &encrypt(sym_ref, &context, &pt).unwrap(),
        );
        w(&format!("blob.{i}.pt"), &pt);
        let ctx_lines: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        w(&format!("blob.{i}.ctx"), ctx_lines.as_bytes());
        manifest += &format!("blob blob.key blob.{i} blob.{i}.ctx blob.{i}.pt\n");
    }

    w("manifest.txt", manifest.as_bytes());
    let script = d.join("kms_cross_check.py");
    fs::write(&script, include_str!("python/kms_cross_check.py")).unwrap();
    let out = Command::new(&py)
        .arg(&script)
        .arg("phase1")
        .arg(d)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = parse_counts(&stdout);
    assert_eq!(counts.get("signatures"), Some(&signatures), "{stdout}");
    assert_eq!(counts.get("oaep"), Some(&6), "{stdout}");
    assert_eq!(counts.get("data_key_pairs"), Some(&7), "{stdout}");
    assert_eq!(counts.get("dkp_rsa_decrypt"), Some(&3), "{stdout}");
    assert_eq!(counts.get("wraps"), Some(&5), "{stdout}");
    assert_eq!(counts.get("ecdh"), Some(&3), "{stdout}");
    assert_eq!(counts.get("macs"), Some(&4), "{stdout}");
    assert_eq!(counts.get("blobs"), Some(&2), "{stdout}");

    // Phase 2: Rust consumes what Python produced.
    let r = |name: &str| fs::read(d.join(name)).unwrap();
    for (spec, key) in &rsa_keys {
        for alg in spec.algorithms(KeyUsage::ENCRYPT_DECRYPT).encryption {
            let pt = r(&format!("oaep.{spec}.{alg}.pt"));
            let ct = r(&format!("oaep.{spec}.{alg}.ct"));
            assert_eq!(
                rsa_decrypt(key, *alg, &ct).unwrap().as_slice(),
                pt.as_slice()
            );
            assert_eq!(pt.len(), max_rsa_plaintext_len(*spec, *alg).unwrap());
        }
    }
    for (spec, pair) in &pairs {
        let key_spec: KeySpec = (*spec).into();
        let alg = match key_spec {
            KeySpec::ECC_NIST_P384 => SigningAlgorithm::ECDSA_SHA_384,
            KeySpec::ECC_NIST_P521 => SigningAlgorithm::ECDSA_SHA_512,
            KeySpec::ECC_NIST_P256 | KeySpec::ECC_SECG_P256K1 => SigningAlgorithm::ECDSA_SHA_256,
            _ => SigningAlgorithm::RSASSA_PKCS1_V1_5_SHA_256,
        };
        let sig = r(&format!("dkp.{spec}.pysig"));
        verify_with_public_key(
            key_spec,
            &pair.public_key_der,
            alg,
            MessageType::RAW,
            MESSAGE,
            &sig,
        )
        .unwrap_or_else(|e| panic!("{spec}: Python's signature did not verify: {e:?}"));
        let key = KeyMaterial::from_bytes(key_spec, &pair.private_key_plaintext).unwrap();
        verify(&key, alg, MessageType::RAW, MESSAGE, &sig).unwrap();
        assert_eq!(
            verify(&key, alg, MessageType::RAW, b"other", &sig).unwrap_err(),
            KmsCryptoError::InvalidSignature
        );
    }
    for (file, spec, params) in &imports {
        let imported =
            import_key_material(&master, &sym_id, *spec, &params.import_token, &r(file), now)
                .unwrap();
        let expected = if *spec == KeySpec::SYMMETRIC_DEFAULT {
            &material
        } else {
            &ec_material
        };
        assert_eq!(imported.to_bytes(), expected.to_bytes(), "{file}");
    }
    for (spec, key) in &ecdh {
        let peer = r(&format!("ecdh.{spec}.peer"));
        let secret = derive_shared_secret(key, KeyAgreementAlgorithm::ECDH, &peer).unwrap();
        assert_eq!(
            secret.as_slice(),
            r(&format!("ecdh.{spec}.secret")).as_slice(),
            "{spec}"
        );
    }
}

fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIPPED: `openssl` is not on this machine; OpenSSL cross-checks not run");
    }
    ok
}

fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn openssl_loads_public_keys_verifies_signatures_and_encrypts() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("message"), MESSAGE).unwrap();
    let cases = [
        (
            KeySpec::RSA_2048,
            SigningAlgorithm::RSASSA_PKCS1_V1_5_SHA_256,
            "-sha256",
            false,
        ),
        (
            KeySpec::RSA_2048,
            SigningAlgorithm::RSASSA_PSS_SHA_384,
            "-sha384",
            true,
        ),
        (
            KeySpec::RSA_3072,
            SigningAlgorithm::RSASSA_PSS_SHA_512,
            "-sha512",
            true,
        ),
        (
            KeySpec::ECC_NIST_P256,
            SigningAlgorithm::ECDSA_SHA_256,
            "-sha256",
            false,
        ),
        (
            KeySpec::ECC_NIST_P384,
            SigningAlgorithm::ECDSA_SHA_384,
            "-sha384",
            false,
        ),
        (
            KeySpec::ECC_NIST_P521,
            SigningAlgorithm::ECDSA_SHA_512,
            "-sha512",
            false,
        ),
        (
            KeySpec::ECC_SECG_P256K1,
            SigningAlgorithm::ECDSA_SHA_256,
            "-sha256",
            false,
        ),
    ];
    for (i, (spec, alg, md, pss)) in cases.into_iter().enumerate() {
        let key = KeyMaterial::generate(spec).unwrap();
        fs::write(d.join(format!("{i}.der")), key.public_key_der().unwrap()).unwrap();
        let der = format!("{i}.der");
        let pem = format!("{i}.pem");
        let out = openssl(
            &[
                "pkey", "-pubin", "-inform", "DER", "-in", &der, "-out", &pem,
            ],
            d,
        );
        assert!(
            out.status.success(),
            "{spec}: openssl pkey: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for mt in [MessageType::RAW, MessageType::DIGEST] {
            let input = match mt {
                MessageType::DIGEST => digest::digest(hash_for(alg), MESSAGE).as_ref().to_vec(),
                _ => MESSAGE.to_vec(),
            };
            let sig_file = format!("{i}.{mt}.sig");
            fs::write(d.join(&sig_file), sign(&key, alg, mt, &input).unwrap()).unwrap();
            let mut args = vec!["dgst", md, "-verify", &pem, "-signature", &sig_file];
            if pss {
                args.extend([
                    "-sigopt",
                    "rsa_padding_mode:pss",
                    "-sigopt",
                    "rsa_pss_saltlen:-1",
                ]);
            }
            args.push("message");
            let out = openssl(&args, d);
            assert!(
                out.status.success(),
                "{spec} {alg} {mt}: openssl dgst -verify: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            // openssl must reject a signature of another message.
            fs::write(d.join("other"), b"other message").unwrap();
            let mut bad = args.clone();
            *bad.last_mut().unwrap() = "other";
            assert!(
                !openssl(&bad, d).status.success(),
                "{spec} {alg}: openssl accepted a wrong message"
            );
        }
    }

    // RSA-OAEP: openssl encrypts to a KMS public key, Rust decrypts.
    let key = KeyMaterial::generate(KeySpec::RSA_2048).unwrap();
    fs::write(d.join("enc.der"), key.public_key_der().unwrap()).unwrap();
    for (alg, md) in [
        (EncryptionAlgorithm::RSAES_OAEP_SHA_1, "sha1"),
        (EncryptionAlgorithm::RSAES_OAEP_SHA_256, "sha256"),
    ] {
        let max = max_rsa_plaintext_len(KeySpec::RSA_2048, alg).unwrap();
        let pt: Vec<u8> = (0..max).map(|i| (i * 7 % 251) as u8).collect();
        fs::write(d.join("pt"), &pt).unwrap();
        let oaep_md = format!("rsa_oaep_md:{md}");
        let mgf_md = format!("rsa_mgf1_md:{md}");
        let out = openssl(
            &[
                "pkeyutl",
                "-encrypt",
                "-pubin",
                "-keyform",
                "DER",
                "-inkey",
                "enc.der",
                "-in",
                "pt",
                "-out",
                "ct",
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                &oaep_md,
                "-pkeyopt",
                &mgf_md,
            ],
            d,
        );
        assert!(
            out.status.success(),
            "openssl pkeyutl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ct = fs::read(d.join("ct")).unwrap();
        assert_eq!(
            rsa_decrypt(&key, alg, &ct).unwrap().as_slice(),
            pt.as_slice(),
            "{alg}"
        );
    }
}
