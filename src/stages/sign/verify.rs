//! Verification of every signature of a PDF, pure over its bytes, the trust roots and
//! the time to judge certificates at. For each signature dictionary:
//! - the byte range: `[0 a b c]`, `a..b` exactly the `/Contents` hex string, `b + c` the
//!   end of a revision (the whole file for the last signature);
//! - the CMS: SHA-256 message digest of the covered bytes, ESS signing-certificate-v2
//!   hash of the signer's certificate, the signature over the DER of the signed
//!   attributes with the certificate's key (ECDSA P-256 or RSA PKCS #1 v1.5);
//! - the chain: each certificate signed by the next, valid at the time, up to one of the
//!   trust roots;
//! - a timestamp (B-T): its imprint is the SHA-256 of the signature value, its own CMS
//!   signature holds and its signer chains to the trust roots.
//!
//! A document is valid when it has a signature, every signature is valid and the last
//! one covers the whole file (so nothing was appended after it).

use super::cms::{ID_AA_SIGNING_CERTIFICATE_V2, ID_AA_TIME_STAMP_TOKEN, ID_CT_TST_INFO, SigningCertificateV2, decode_prefix};
use super::keys::{common_name, organisation};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode};
use lopdf::{Document, Object};
use serde::Serialize;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;

/// What was found about one signature.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignatureReport {
    /// The signature field's name (`/T`).
    pub field: String,
    /// The signer certificate's common name and organisation.
    pub signer: String,
    pub organisation: String,
    /// The signer certificate's subject and serial (hex).
    pub subject: String,
    pub serial: String,
    /// `/M`, as written.
    pub signed_at: Option<String>,
    pub sub_filter: String,
    pub byte_range: Vec<i64>,
    /// The byte range ends at the end of the file.
    pub covers_whole_file: bool,
    pub byte_range_ok: bool,
    pub digest_ok: bool,
    pub ess_ok: bool,
    pub signature_ok: bool,
    pub chain_trusted: bool,
    pub timestamp: Option<TimestampReport>,
    pub valid: bool,
    pub problems: Vec<String>,
}

/// A B-T signature's timestamp.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimestampReport {
    /// The TSA's time, RFC 3339 UTC.
    pub time: String,
    pub authority: String,
    pub imprint_ok: bool,
    pub signature_ok: bool,
    pub chain_trusted: bool,
}

/// Every signature of a document, and the verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerifyReport {
    pub sha256: String,
    pub bytes: u64,
    pub signatures: Vec<SignatureReport>,
    pub valid: bool,
    pub problems: Vec<String>,
}

/// Verifies every signature of `pdf` against `roots`, judging certificates at `at`.
pub fn verify_pdf(pdf: &[u8], roots: &[Certificate], at: chrono::DateTime<chrono::Utc>) -> VerifyReport {
    let mut report =
        VerifyReport { sha256: hex::encode(Sha256::digest(pdf)), bytes: pdf.len() as u64, signatures: Vec::new(), valid: false, problems: Vec::new() };
    let doc = match Document::load_mem(pdf) {
        Ok(d) => d,
        Err(e) => {
            report.problems.push(format!("the file is not a readable PDF: {e}"));
            return report;
        }
    };
    let mut found = Vec::new();
    for (id, object) in &doc.objects {
        let Ok(dict) = object.as_dict() else { continue };
        let is_sig_field = dict.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig".as_slice());
        if !is_sig_field {
            continue;
        }
        let Ok(value) = dict.get(b"V") else { continue };
        let sig = match value {
            Object::Reference(r) => doc.get_dictionary(*r).ok(),
            Object::Dictionary(d) => Some(d),
            _ => None,
        };
        let Some(sig) = sig else { continue };
        let name = dict
            .get(b"T")
            .ok()
            .and_then(|t| t.as_str().ok())
            .map(|t| lopdf::decode_text_string(&Object::String(t.to_vec(), lopdf::StringFormat::Literal)).unwrap_or_default())
            .unwrap_or_else(|| format!("{} {}", id.0, id.1));
        found.push(check_signature(pdf, &name, sig, roots, at));
    }
    found.sort_by_key(|s| s.byte_range.get(2).copied().unwrap_or(0) + s.byte_range.get(3).copied().unwrap_or(0));
    if found.is_empty() {
        report.problems.push("the document has no signature".into());
    } else if !found.last().is_some_and(|s| s.covers_whole_file) {
        report.problems.push("bytes were added after the last signature".into());
    }
    report.valid = !found.is_empty() && report.problems.is_empty() && found.iter().all(|s| s.valid);
    report.signatures = found;
    report
}

fn check_signature(pdf: &[u8], field: &str, sig: &lopdf::Dictionary, roots: &[Certificate], at: chrono::DateTime<chrono::Utc>) -> SignatureReport {
    let mut r = SignatureReport {
        field: field.to_string(),
        signer: String::new(),
        organisation: String::new(),
        subject: String::new(),
        serial: String::new(),
        signed_at: sig.get(b"M").ok().and_then(|m| m.as_str().ok()).map(|m| String::from_utf8_lossy(m).into_owned()),
        sub_filter: sig.get(b"SubFilter").ok().and_then(|s| s.as_name().ok()).map(|s| String::from_utf8_lossy(s).into_owned()).unwrap_or_default(),
        byte_range: Vec::new(),
        covers_whole_file: false,
        byte_range_ok: false,
        digest_ok: false,
        ess_ok: false,
        signature_ok: false,
        chain_trusted: false,
        timestamp: None,
        valid: false,
        problems: Vec::new(),
    };
    let contents = sig.get(b"Contents").ok().and_then(|c| c.as_str().ok()).unwrap_or_default().to_vec();
    r.byte_range = sig.get(b"ByteRange").ok().and_then(|b| b.as_array().ok()).map(|a| a.iter().filter_map(|o| o.as_i64().ok()).collect()).unwrap_or_default();
    let covered = match covered_bytes(pdf, &r.byte_range, &contents) {
        Ok(c) => c,
        Err(p) => {
            r.problems.push(p);
            return r;
        }
    };
    r.byte_range_ok = true;
    r.covers_whole_file = (r.byte_range[2] + r.byte_range[3]) as usize == pdf.len();
    if r.sub_filter != "ETSI.CAdES.detached" && r.sub_filter != "adbe.pkcs7.detached" {
        r.problems.push(format!("unsupported /SubFilter {}", r.sub_filter));
    }
    let mut h = Sha256::new();
    for part in &covered {
        h.update(part);
    }
    let digest = h.finalize().to_vec();
    let outcome = match check_cms(&contents, Some(&digest), roots, at) {
        Ok(o) => o,
        Err(p) => {
            r.problems.push(p);
            return r;
        }
    };
    r.signer = common_name(&outcome.cert);
    r.organisation = organisation(&outcome.cert);
    r.subject = outcome.cert.tbs_certificate.subject.to_string();
    r.serial = hex::encode(outcome.cert.tbs_certificate.serial_number.as_bytes());
    r.digest_ok = outcome.digest_ok;
    r.ess_ok = outcome.ess_ok;
    r.signature_ok = outcome.signature_ok;
    r.chain_trusted = outcome.chain_trusted;
    r.problems.extend(outcome.problems);
    if let Some(token) = &outcome.timestamp_token {
        let ts = check_timestamp(token, &outcome.signature_value, roots, at);
        match ts {
            Ok(ts) => {
                if !(ts.imprint_ok && ts.signature_ok && ts.chain_trusted) {
                    r.problems.push("the timestamp does not hold".into());
                }
                r.timestamp = Some(ts);
            }
            Err(p) => r.problems.push(format!("timestamp: {p}")),
        }
    }
    r.valid = r.byte_range_ok && r.digest_ok && r.ess_ok && r.signature_ok && r.chain_trusted && r.problems.is_empty();
    r
}

/// The two covered parts, if `range` is `[0 a b c]` with `a..b` exactly `<hex of contents>`.
fn covered_bytes<'a>(pdf: &'a [u8], range: &[i64], contents: &[u8]) -> Result<[&'a [u8]; 2], String> {
    let [0, a, b, c] = range else { return Err(format!("the byte range {range:?} is not [0 a b c]")) };
    let (a, b, c) = (
        usize::try_from(*a).map_err(|_| "negative byte range")?,
        usize::try_from(*b).map_err(|_| "negative byte range")?,
        usize::try_from(*c).map_err(|_| "negative byte range")?,
    );
    if !(a < b && b.checked_add(c).is_some_and(|end| end <= pdf.len())) {
        return Err(format!("the byte range [0 {a} {b} {c}] does not fit the file of {} bytes", pdf.len()));
    }
    let gap = &pdf[a..b];
    let inner = gap.strip_prefix(b"<").and_then(|g| g.strip_suffix(b">")).ok_or("the byte range does not leave out exactly the /Contents string")?;
    let decoded = hex::decode(inner).map_err(|_| "the bytes left out are not the /Contents hex string".to_string())?;
    if decoded != contents {
        return Err("the bytes left out are not this signature's /Contents".into());
    }
    Ok([&pdf[..a], &pdf[b..b + c]])
}

struct CmsOutcome {
    cert: Certificate,
    digest_ok: bool,
    ess_ok: bool,
    signature_ok: bool,
    chain_trusted: bool,
    signature_value: Vec<u8>,
    timestamp_token: Option<Vec<u8>>,
    problems: Vec<String>,
}

fn digest_with(alg: &ObjectIdentifier, parts: &[&[u8]]) -> Option<Vec<u8>> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut h = D::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().to_vec()
    }
    match *alg {
        const_oid::db::rfc5912::ID_SHA_256 => Some(run::<Sha256>(parts)),
        const_oid::db::rfc5912::ID_SHA_384 => Some(run::<Sha384>(parts)),
        const_oid::db::rfc5912::ID_SHA_512 => Some(run::<Sha512>(parts)),
        _ => None,
    }
}

fn signed_data_of(der: &[u8]) -> Result<SignedData, String> {
    let info: ContentInfo = decode_prefix(der).map_err(|e| format!("the CMS does not parse: {e}"))?;
    if info.content_type != const_oid::db::rfc5911::ID_SIGNED_DATA {
        return Err("the CMS is not SignedData".into());
    }
    info.content.decode_as().map_err(|e| format!("the SignedData does not parse: {e}"))
}

fn attribute(info: &SignerInfo, oid: ObjectIdentifier) -> Option<&der::Any> {
    info.signed_attrs.as_ref()?.iter().find(|a| a.oid == oid).and_then(|a| a.values.iter().next())
}

/// Checks a CMS SignedData whose content digest is `content_digest` (SHA-256), or, when
/// `None`, whose encapsulated content is hashed as it is.
fn check_cms(der: &[u8], content_digest: Option<&[u8]>, roots: &[Certificate], at: chrono::DateTime<chrono::Utc>) -> Result<CmsOutcome, String> {
    let data = signed_data_of(der)?;
    let certs: Vec<Certificate> = data
        .certificates
        .as_ref()
        .map(|set| set.0.iter().filter_map(|c| if let CertificateChoices::Certificate(c) = c { Some(c.clone()) } else { None }).collect())
        .unwrap_or_default();
    let info = data.signer_infos.0.iter().next().ok_or("the CMS has no signer")?;
    let cert = match &info.sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => {
            certs.iter().find(|c| c.tbs_certificate.issuer == is.issuer && c.tbs_certificate.serial_number == is.serial_number)
        }
        SignerIdentifier::SubjectKeyIdentifier(_) => certs.first(),
    }
    .cloned()
    .ok_or("the signer's certificate is not embedded")?;
    let mut problems = Vec::new();
    let content_digest = match content_digest {
        Some(d) => {
            if info.digest_alg.oid != const_oid::db::rfc5912::ID_SHA_256 {
                return Err(format!("digest algorithm {} is not SHA-256", info.digest_alg.oid));
            }
            d.to_vec()
        }
        None => {
            let content = data.encap_content_info.econtent.as_ref().ok_or("no encapsulated content")?;
            let octets = content.decode_as::<OctetString>().map_err(|e| format!("eContent: {e}"))?;
            digest_with(&info.digest_alg.oid, &[octets.as_bytes()]).ok_or_else(|| format!("unsupported digest {}", info.digest_alg.oid))?
        }
    };
    let md = attribute(info, const_oid::db::rfc5911::ID_MESSAGE_DIGEST).and_then(|a| a.decode_as::<OctetString>().ok());
    let digest_ok = md.as_ref().is_some_and(|m| m.as_bytes() == content_digest.as_slice());
    if !digest_ok {
        problems.push("the message digest does not match the signed bytes".into());
    }
    let ess_ok = match attribute(info, ID_AA_SIGNING_CERTIFICATE_V2) {
        Some(a) => {
            let ess = a.decode_as::<SigningCertificateV2>().map_err(|e| format!("signing-certificate-v2: {e}"))?;
            let cert_der = cert.to_der().map_err(|e| e.to_string())?;
            ess.certs.first().is_some_and(|id| {
                let alg = id.hash_algorithm.as_ref().map_or(const_oid::db::rfc5912::ID_SHA_256, |a| a.oid);
                digest_with(&alg, &[&cert_der]).is_some_and(|h| h == id.cert_hash.as_bytes())
            })
        }
        // RFC 3161 tokens may carry the v1 attribute instead; a PAdES signature must not.
        None => content_digest.len() != 32 || info.signed_attrs.as_ref().is_some_and(|a| a.iter().any(|a| a.oid.to_string() == "1.2.840.113549.1.9.16.2.12")),
    };
    if !ess_ok {
        problems.push("the ESS signing-certificate-v2 attribute does not name the signer's certificate".into());
    }
    let attrs_der = info.signed_attrs.as_ref().ok_or("no signed attributes")?.to_der().map_err(|e| e.to_string())?;
    let signature_ok = match verify_with(&cert, &info.signature_algorithm.oid, Some(&info.digest_alg.oid), &attrs_der, info.signature.as_bytes()) {
        Ok(()) => true,
        Err(e) => {
            problems.push(format!("the signature over the signed attributes does not hold: {e}"));
            false
        }
    };
    let chain_trusted = match chain_to_roots(&cert, &certs, roots, at) {
        Ok(()) => true,
        Err(e) => {
            problems.push(format!("the certificate chain is not trusted: {e}"));
            false
        }
    };
    let timestamp_token = info
        .unsigned_attrs
        .as_ref()
        .and_then(|u| u.iter().find(|a| a.oid == ID_AA_TIME_STAMP_TOKEN))
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.to_der().ok());
    Ok(CmsOutcome { cert, digest_ok, ess_ok, signature_ok, chain_trusted, signature_value: info.signature.as_bytes().to_vec(), timestamp_token, problems })
}

fn check_timestamp(token: &[u8], signature_value: &[u8], roots: &[Certificate], at: chrono::DateTime<chrono::Utc>) -> Result<TimestampReport, String> {
    let data = signed_data_of(token)?;
    if data.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err("the token does not hold a TSTInfo".into());
    }
    let octets = data.encap_content_info.econtent.as_ref().ok_or("the token has no content")?.decode_as::<OctetString>().map_err(|e| e.to_string())?;
    let tst = x509_tsp::TstInfo::from_der(octets.as_bytes()).map_err(|e| format!("TSTInfo: {e}"))?;
    let imprint_ok =
        digest_with(&tst.message_imprint.hash_algorithm.oid, &[signature_value]).is_some_and(|h| h == tst.message_imprint.hashed_message.as_bytes());
    let outcome = check_cms(token, None, roots, at)?;
    let time = tst.gen_time.to_unix_duration();
    let time = chrono::DateTime::<chrono::Utc>::from_timestamp(time.as_secs() as i64, time.subsec_nanos()).map(|t| t.to_rfc3339()).unwrap_or_default();
    Ok(TimestampReport {
        time,
        authority: common_name(&outcome.cert),
        imprint_ok,
        signature_ok: outcome.signature_ok && outcome.digest_ok,
        chain_trusted: outcome.chain_trusted,
    })
}

/// Verifies `signature` over `message` with `cert`'s public key.
fn verify_with(cert: &Certificate, sig_alg: &ObjectIdentifier, digest_alg: Option<&ObjectIdentifier>, message: &[u8], signature: &[u8]) -> Result<(), String> {
    use const_oid::db::rfc5912 as oids;
    use signature::hazmat::PrehashVerifier;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let spki_der = spki.to_der().map_err(|e| e.to_string())?;
    let hash_alg = match *sig_alg {
        oids::ECDSA_WITH_SHA_256 | oids::SHA_256_WITH_RSA_ENCRYPTION => oids::ID_SHA_256,
        oids::ECDSA_WITH_SHA_384 | oids::SHA_384_WITH_RSA_ENCRYPTION => oids::ID_SHA_384,
        oids::ECDSA_WITH_SHA_512 | oids::SHA_512_WITH_RSA_ENCRYPTION => oids::ID_SHA_512,
        oids::RSA_ENCRYPTION | oids::ID_EC_PUBLIC_KEY => *digest_alg.ok_or("no digest algorithm")?,
        other => return Err(format!("unsupported signature algorithm {other}")),
    };
    let hash = digest_with(&hash_alg, &[message]).ok_or_else(|| format!("unsupported digest {hash_alg}"))?;
    match spki.algorithm.oid {
        oids::ID_EC_PUBLIC_KEY => {
            use p256::pkcs8::DecodePublicKey;
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki_der).map_err(|e| format!("not a P-256 key: {e}"))?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|e| format!("bad ECDSA signature: {e}"))?;
            key.verify_prehash(&hash, &sig).map_err(|_| "the ECDSA signature does not verify".to_string())
        }
        oids::RSA_ENCRYPTION => {
            use rsa::pkcs8::DecodePublicKey;
            let key = rsa::RsaPublicKey::from_public_key_der(&spki_der).map_err(|e| format!("bad RSA key: {e}"))?;
            let scheme = match hash_alg {
                oids::ID_SHA_256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                oids::ID_SHA_384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                _ => rsa::Pkcs1v15Sign::new::<Sha512>(),
            };
            key.verify(scheme, &hash, signature).map_err(|_| "the RSA signature does not verify".to_string())
        }
        other => Err(format!("unsupported key algorithm {other}")),
    }
}

fn valid_at(cert: &Certificate, at: chrono::DateTime<chrono::Utc>) -> bool {
    let v = &cert.tbs_certificate.validity;
    let (from, to) = (v.not_before.to_unix_duration().as_secs() as i64, v.not_after.to_unix_duration().as_secs() as i64);
    (from..=to).contains(&at.timestamp())
}

/// Walks from `cert` up through `pool` and `roots` until a trust root, checking each
/// signature and validity period.
fn chain_to_roots(cert: &Certificate, pool: &[Certificate], roots: &[Certificate], at: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
    if roots.is_empty() {
        return Err("no trust roots are configured (--trust FILE)".into());
    }
    let mut current = cert.clone();
    for _ in 0..8 {
        if !valid_at(&current, at) {
            return Err(format!("{} is not valid at {at}", current.tbs_certificate.subject));
        }
        if roots.contains(&current) {
            return Ok(());
        }
        let issuer = roots
            .iter()
            .chain(pool.iter())
            .find(|c| c.tbs_certificate.subject == current.tbs_certificate.issuer && **c != current)
            .ok_or_else(|| format!("no issuer for {} among the embedded certificates and trust roots", current.tbs_certificate.subject))?
            .clone();
        let tbs = current.tbs_certificate.to_der().map_err(|e| e.to_string())?;
        let sig = current.signature.as_bytes().ok_or("a certificate signature with unused bits")?;
        verify_with(&issuer, &current.signature_algorithm.oid, None, &tbs, sig).map_err(|e| format!("{}: {e}", current.tbs_certificate.subject))?;
        current = issuer;
    }
    Err("the certificate chain is too long".into())
}

/// The certificates of a PEM file (the trust roots).
pub fn load_roots(text: &str) -> Result<Vec<Certificate>, String> {
    let certs: Vec<Certificate> = super::keys::pem_blocks(text)?
        .into_iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .map(|(_, der)| Certificate::from_der(&der).map_err(|e| format!("a certificate does not parse: {e}")))
        .collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err("no CERTIFICATE in the file".into());
    }
    Ok(certs)
}
