//! Sign and verify generated PDFs with a fresh dev CA: B-B, a second signature, B-T with
//! an in-process timestamp authority, and tampering.

use super::*;
use crate::model::{ColorMode, DocumentMeta, OcrPage, PdfPage};
use crate::stages::pdf::{encode_page_image, write_searchable_pdf};
use ::cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use ::cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use ::cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use chrono::TimeZone;
use der::{Decode, Encode};
use sha2::Digest;
use std::path::Path;

pub(crate) fn sample_pdf(pages: usize) -> Vec<u8> {
    let img = image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(620, 877, |x, y| image::Luma([if (x / 40 + y / 40) % 7 == 0 { 30 } else { 250 }])));
    let page = PdfPage { image: encode_page_image(&img, ColorMode::Gray), dpi: 75.0, ocr: OcrPage { text: String::new(), confidence: None, words: vec![] } };
    let meta = DocumentMeta {
        dossier_code: Some("000.00.15.H40-250301-0007".into()),
        document_type: Some("DON".into()),
        page_count: pages,
        source_batch: "bat_test".into(),
        scan_time: "2026-01-05T10:30:00+07:00".into(),
        title: "Đơn".into(),
        fields: Default::default(),
    };
    write_searchable_pdf(&vec![page; pages], &meta).unwrap()
}

fn at() -> chrono::DateTime<chrono::FixedOffset> {
    vietnam().with_ymd_and_hms(2026, 12, 4, 22, 30, 5).unwrap()
}

fn options<'a>(tsa: Option<&'a dyn Timestamper>) -> SignOptions<'a> {
    SignOptions { time: at(), label: "BẢN SỐ HÓA".into(), reason: Some("Số hóa hồ sơ".into()), location: None, timestamper: tsa }
}

fn roots(dir: &Path) -> Vec<x509_cert::Certificate> {
    verify::load_roots(&std::fs::read_to_string(dir.join("ca.pem")).unwrap()).unwrap()
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 12, 4, 15, 31, 0).unwrap()
}

#[test]
fn dates_and_book_labels() {
    assert_eq!(pades::pdf_date(&at()), "D:20261204223005+07'00'");
    assert_eq!(appearance::iso_time(&at()), "2026-12-04T22:30:05+07:00");
    assert_eq!(appearance::book_label(2026), "01/2026-SCT/BS/ĐT");
    let lines = appearance::block_lines("BẢN SỐ HÓA", "Nguyễn Văn An", "Bưu điện tỉnh Bình Định", &at());
    assert_eq!(lines.last().unwrap().0, "Thời gian ký: 2026-12-04T22:30:05+07:00");
    assert_eq!(pades::last_startxref(b"%PDF-1.7\n...\nstartxref\n1234\n%%EOF\n"), Some(1234));
}

#[test]
fn dev_ca_keys_load_and_sign_a_verifiable_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let files = devca::write_dev_ca(dir.path()).unwrap();
    assert_eq!(files.len(), 5);
    let clerk = load_key_file(&dir.path().join("clerk.pem"), None).unwrap();
    assert_eq!(clerk.chain().len(), 2, "the identity, then the root");
    assert_eq!(keys::organisation(&clerk.chain()[0]), "Bưu điện tỉnh Bình Định");
    let pdf = sample_pdf(2);
    let signed = sign_pdf(&pdf, &clerk, &options(None)).unwrap();
    assert_eq!(&signed[..pdf.len()], &pdf[..], "an incremental update leaves the input as it was");

    let report = verify_pdf(&signed, &roots(dir.path()), now());
    assert!(report.valid, "{report:#?}");
    let sig = &report.signatures[0];
    assert_eq!((sig.signer.as_str(), sig.organisation.as_str()), ("Nguyễn Văn An", "Bưu điện tỉnh Bình Định"));
    assert_eq!(sig.signed_at.as_deref(), Some("D:20261204223005+07'00'"));
    assert!(sig.covers_whole_file && sig.ess_ok && sig.digest_ok && sig.signature_ok && sig.chain_trusted);
    assert_eq!(sig.sub_filter, "ETSI.CAdES.detached");

    // lopdf still reads it, with the widget on page 1 and the AcroForm's flags.
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let form = doc.get_dictionary(root).unwrap().get(b"AcroForm").unwrap().as_dict().unwrap();
    assert_eq!(form.get(b"SigFlags").unwrap().as_i64().unwrap(), 3);
    let page = *doc.get_pages().values().next().unwrap();
    assert_eq!(doc.get_dictionary(page).unwrap().get(b"Annots").unwrap().as_array().unwrap().len(), 1);

    // No trust root: the chain is not trusted. Another CA's root: not trusted either.
    assert!(!verify_pdf(&signed, &[], now()).valid);
    let other = tempfile::tempdir().unwrap();
    devca::write_dev_ca(other.path()).unwrap();
    let foreign = verify_pdf(&signed, &roots(other.path()), now());
    assert!(!foreign.valid && !foreign.signatures[0].chain_trusted, "{foreign:#?}");
    // After the certificates expired: not valid.
    assert!(!verify_pdf(&signed, &roots(dir.path()), chrono::Utc.with_ymd_and_hms(2050, 1, 1, 0, 0, 0).unwrap()).valid);
}

#[test]
fn one_changed_byte_anywhere_fails() {
    let dir = tempfile::tempdir().unwrap();
    devca::write_dev_ca(dir.path()).unwrap();
    let clerk = load_key_file(&dir.path().join("clerk.pem"), None).unwrap();
    let signed = sign_pdf(&sample_pdf(1), &clerk, &options(None)).unwrap();
    let roots = roots(dir.path());
    let report = verify_pdf(&signed, &roots, now());
    assert!(report.valid);
    let br = &report.signatures[0].byte_range;
    let (a, b) = (br[1] as usize, br[2] as usize);
    // In the image data, in the signature's hex, in the trailer, and one byte appended.
    for at in [signed.len() / 3, a + 40, b + 10, signed.len() - 3] {
        let mut bad = signed.clone();
        bad[at] ^= if bad[at].is_ascii_digit() { 0x01 } else { 0x20 };
        let r = verify_pdf(&bad, &roots, now());
        assert!(!r.valid, "byte {at} changed and still valid: {r:#?}");
    }
    let mut longer = signed.clone();
    longer.extend_from_slice(b"\n% appended\n");
    assert!(!verify_pdf(&longer, &roots, now()).valid);
}

#[test]
fn a_second_signature_keeps_the_first() {
    let dir = tempfile::tempdir().unwrap();
    devca::write_dev_ca(dir.path()).unwrap();
    let certifier = load_key_file(&dir.path().join("certifier.pem"), None).unwrap();
    let agency = load_key_file(&dir.path().join("agency.pem"), None).unwrap();
    let once = sign_pdf(&sample_pdf(1), &certifier, &options(None)).unwrap();
    let twice = sign_pdf(&once, &agency, &options(None)).unwrap();
    let report = verify_pdf(&twice, &roots(dir.path()), now());
    assert!(report.valid, "{report:#?}");
    assert_eq!(report.signatures.len(), 2);
    assert!(!report.signatures[0].covers_whole_file && report.signatures[1].covers_whole_file);
    assert_eq!(report.signatures[0].signer, "Trần Thị Bình");
    assert_eq!(report.signatures[1].field, "Signature2");
}

/// A timestamp authority in the process: TSTInfo signed with `tsa.pem` by the `cms` builder.
struct LocalTsa(SoftwareSigner);

impl Timestamper for LocalTsa {
    fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, SignError> {
        let tst = x509_tsp::TstInfo {
            version: x509_tsp::TspVersion::V1,
            policy: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
            message_imprint: x509_tsp::MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifier { oid: const_oid::db::rfc5912::ID_SHA_256, parameters: None },
                hashed_message: der::asn1::OctetString::new(imprint.to_vec()).unwrap(),
            },
            serial_number: der::asn1::Int::new(&[1]).unwrap(),
            gen_time: der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(now().timestamp() as u64)).unwrap(),
            accuracy: None,
            ordering: false,
            nonce: None,
            tsa: None,
            extensions: None,
        };
        let econtent = EncapsulatedContentInfo {
            econtent_type: cms::ID_CT_TST_INFO,
            econtent: Some(der::Any::from_der(&der::asn1::OctetString::new(tst.to_der().unwrap()).unwrap().to_der().unwrap()).unwrap()),
        };
        let leaf = &self.0.chain()[0];
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf.tbs_certificate.issuer.clone(),
            serial_number: leaf.tbs_certificate.serial_number.clone(),
        });
        let key = TestKey(&self.0);
        let mut info = SignerInfoBuilder::new(&key, sid, cms::sha256_algorithm(), &econtent, None).unwrap();
        info.add_signed_attribute(cms::ess_attribute(leaf).unwrap()).unwrap();
        let mut b = SignedDataBuilder::new(&econtent);
        b.add_digest_algorithm(cms::sha256_algorithm()).unwrap();
        b.add_certificate(CertificateChoices::Certificate(leaf.clone())).unwrap();
        b.add_signer_info::<_, TestSig>(info).unwrap();
        Ok(b.build().unwrap().to_der().unwrap())
    }
}

struct TestKey<'a>(&'a SoftwareSigner);
struct TestSig(Vec<u8>);
impl signature::Keypair for TestKey<'_> {
    type VerifyingKey = ();
    fn verifying_key(&self) {}
}
impl spki::DynSignatureAlgorithmIdentifier for TestKey<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<spki::AlgorithmIdentifierOwned> {
        Ok(spki::AlgorithmIdentifierOwned { oid: const_oid::db::rfc5912::ECDSA_WITH_SHA_256, parameters: None })
    }
}
impl spki::SignatureBitStringEncoding for TestSig {
    fn to_bitstring(&self) -> der::Result<der::asn1::BitString> {
        der::asn1::BitString::new(0, self.0.clone())
    }
}
impl signature::Signer<TestSig> for TestKey<'_> {
    fn try_sign(&self, msg: &[u8]) -> Result<TestSig, signature::Error> {
        Ok(TestSig(self.0.sign_digest(&sha2::Sha256::digest(msg).into()).unwrap()))
    }
}

#[test]
fn b_t_carries_a_timestamp_of_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    devca::write_dev_ca(dir.path()).unwrap();
    let clerk = load_key_file(&dir.path().join("clerk.pem"), None).unwrap();
    let tsa = LocalTsa(load_key_file(&dir.path().join("tsa.pem"), None).unwrap());
    let signed = sign_pdf(&sample_pdf(1), &clerk, &options(Some(&tsa))).unwrap();
    let report = verify_pdf(&signed, &roots(dir.path()), now());
    assert!(report.valid, "{report:#?}");
    let ts = report.signatures[0].timestamp.as_ref().expect("a timestamp");
    assert!(ts.imprint_ok && ts.signature_ok && ts.chain_trusted);
    assert_eq!(ts.time, "2026-12-04T15:31:00+00:00");
    assert_eq!(ts.authority, "sohoa dev TSA");
}

#[test]
fn keys_that_do_not_fit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    devca::write_dev_ca(dir.path()).unwrap();
    let clerk = std::fs::read_to_string(dir.path().join("clerk.pem")).unwrap();
    let agency = std::fs::read_to_string(dir.path().join("agency.pem")).unwrap();
    // The clerk's key with the agency's certificates.
    let key_end = clerk.find("-----END PRIVATE KEY-----").unwrap() + "-----END PRIVATE KEY-----\n".len();
    let cert_start = agency.find("-----BEGIN CERTIFICATE-----").unwrap();
    let mixed = dir.path().join("mixed.pem");
    std::fs::write(&mixed, format!("{}{}", &clerk[..key_end], &agency[cert_start..])).unwrap();
    let err = load_key_file(&mixed, None).unwrap_err();
    assert_eq!(err.code(), "key-invalid", "{err}");
    assert_eq!(load_key_file(&dir.path().join("ca.pem"), None).unwrap_err().code(), "key-invalid");
    assert_eq!(load_key_file(&dir.path().join("missing.pem"), None).unwrap_err().code(), "key-unreadable");
}

#[test]
fn pkcs12_keys_open_with_their_password() {
    let dir = tempfile::tempdir().unwrap();
    devca::write_dev_ca(dir.path()).unwrap();
    let pem = dir.path().join("clerk.pem");
    let p12 = dir.path().join("clerk.p12");
    let out = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-passout", "pass:mật-khẩu", "-in"])
        .arg(&pem)
        .arg("-inkey")
        .arg(&pem)
        .arg("-out")
        .arg(&p12)
        .output()
        .expect("openssl is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let signer = load_key_file(&p12, Some("mật-khẩu")).unwrap();
    assert_eq!(signer.chain().len(), 2);
    assert_eq!(keys::common_name(&signer.chain()[0]), "Nguyễn Văn An");
    let signed = sign_pdf(&sample_pdf(1), &signer, &options(None)).unwrap();
    assert!(verify_pdf(&signed, &roots(dir.path()), now()).valid);
    assert_eq!(load_key_file(&p12, Some("sai")).unwrap_err().code(), "key-invalid");
}
