//! `sohoa keys dev-ca --out DIR`: a throwaway root CA and four identities, for trying
//! signatures out and for tests. Never for production: the CA's private key is not kept
//! and every file is written unencrypted.
//!
//! `DIR/ca.pem` holds the root certificate; `clerk.pem`, `certifier.pem`, `agency.pem` and
//! `tsa.pem` each hold a private key (PKCS #8) then its certificate chain (the identity's
//! certificate, then the root), the form [`super::load_key_file`] reads. Keys are ECDSA
//! P-256. The signing identities carry key usage digitalSignature and nonRepudiation;
//! the TSA carries the critical timeStamping extended key usage RFC 3161 asks for.

use super::SignError;
use der::Encode;
use rcgen::{BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};

/// One identity of the dev CA: its file name, common name and organisation.
pub struct DevIdentity {
    pub file: &'static str,
    pub common_name: &'static str,
    pub organisation: &'static str,
    pub timestamping: bool,
}

/// The identities `dev-ca` issues.
pub const IDENTITIES: [DevIdentity; 4] = [
    DevIdentity { file: "clerk.pem", common_name: "Nguyễn Văn An", organisation: "Bưu điện tỉnh Bình Định", timestamping: false },
    DevIdentity { file: "certifier.pem", common_name: "Trần Thị Bình", organisation: "Ủy ban Nhân dân phường Quy Nhơn", timestamping: false },
    DevIdentity {
        file: "agency.pem", common_name: "Ủy ban Nhân dân phường Quy Nhơn", organisation: "Ủy ban Nhân dân phường Quy Nhơn", timestamping: false
    },
    DevIdentity { file: "tsa.pem", common_name: "sohoa dev TSA", organisation: "sohoa dev CA", timestamping: true },
];

fn name(common_name: &str, organisation: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    dn.push(DnType::OrganizationName, organisation);
    dn.push(DnType::CommonName, common_name);
    dn
}

fn rcgen_err(e: rcgen::Error) -> SignError {
    SignError::Signing(format!("certificate generation failed: {e}"))
}

/// Writes the dev CA into `out` (created if missing); returns the files written.
pub fn write_dev_ca(out: &Path) -> Result<Vec<PathBuf>, SignError> {
    std::fs::create_dir_all(out).map_err(|e| SignError::Output { path: out.display().to_string(), source: e })?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = name("sohoa dev root CA (không dùng thật)", "sohoa dev CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca_params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    ca_params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    let ca_key = KeyPair::generate().map_err(rcgen_err)?;
    let ca = ca_params.self_signed(&ca_key).map_err(rcgen_err)?;

    let mut written = Vec::new();
    let write = |file: &str, text: String, written: &mut Vec<PathBuf>| -> Result<(), SignError> {
        let path = out.join(file);
        std::fs::write(&path, text).map_err(|e| SignError::Output { path: path.display().to_string(), source: e })?;
        written.push(path);
        Ok(())
    };
    write("ca.pem", ca.pem(), &mut written)?;
    for id in &IDENTITIES {
        let mut params = CertificateParams::default();
        params.distinguished_name = name(id.common_name, id.organisation);
        params.is_ca = IsCa::ExplicitNoCa;
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2049, 12, 31);
        if id.timestamping {
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
            // RFC 3161 § 2.3: the TSA's certificate has exactly this one extended key
            // usage, marked critical (rcgen writes its own as non-critical).
            let eku = x509_cert::ext::pkix::ExtendedKeyUsage(vec![const_oid::db::rfc5280::ID_KP_TIME_STAMPING])
                .to_der()
                .map_err(|e| SignError::Signing(format!("extended key usage: {e}")))?;
            let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], eku);
            ext.set_criticality(true);
            params.custom_extensions.push(ext);
        } else {
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
        }
        let key = KeyPair::generate().map_err(rcgen_err)?;
        let cert = params.signed_by(&key, &ca, &ca_key).map_err(rcgen_err)?;
        write(id.file, format!("{}{}{}", key.serialize_pem(), cert.pem(), ca.pem()), &mut written)?;
    }
    Ok(written)
}
