//! The CMS SignedData of a PAdES signature (RFC 5652, ETSI EN 319 122 CAdES baseline):
//! detached (no eContent), SHA-256, signed attributes content-type, message-digest and
//! ESS signing-certificate-v2, the signer's chain embedded, and for B-T an RFC 3161
//! timestamp token of the signature value as the unsigned attribute
//! id-aa-timeStampToken. Built with `cms`'s builder; the ESS structures are declared
//! with `der`'s derive.

use super::keys::{KeyAlgorithm, Signer};
use super::{SignError, Timestamper};
use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// id-aa-signingCertificateV2 (RFC 5035).
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-aa-timeStampToken (RFC 3161, Appendix A).
pub const ID_AA_TIME_STAMP_TOKEN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-ct-TSTInfo.
pub const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies ... OPTIONAL }
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub policies: Option<Any>,
}

/// ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash, issuerSerial OPTIONAL }
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    /// Absent for SHA-256 (DER leaves a DEFAULT value out).
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

pub fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: const_oid::db::rfc5912::ID_SHA_256, parameters: None }
}

fn signature_algorithm(alg: KeyAlgorithm) -> AlgorithmIdentifierOwned {
    match alg {
        KeyAlgorithm::EcdsaP256 => AlgorithmIdentifierOwned { oid: const_oid::db::rfc5912::ECDSA_WITH_SHA_256, parameters: None },
        KeyAlgorithm::Rsa => AlgorithmIdentifierOwned { oid: const_oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION, parameters: Some(Any::null()) },
    }
}

/// The ESS signing-certificate-v2 attribute naming `cert` by its SHA-256 and issuer/serial.
pub fn ess_attribute(cert: &Certificate) -> Result<Attribute, der::Error> {
    let hash = Sha256::digest(cert.to_der()?);
    let id = EssCertIdV2 {
        hash_algorithm: None,
        cert_hash: OctetString::new(hash.to_vec())?,
        issuer_serial: Some(IssuerSerial {
            issuer: vec![GeneralName::DirectoryName(cert.tbs_certificate.issuer.clone())],
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
    };
    let value = Any::from_der(&SigningCertificateV2 { certs: vec![id], policies: None }.to_der()?)?;
    Ok(Attribute { oid: ID_AA_SIGNING_CERTIFICATE_V2, values: SetOfVec::try_from(vec![value])? })
}

/// The [`Signer`] as the `cms` builder wants a key.
struct BuilderKey<'a>(&'a dyn Signer);

/// A signature value as the key gave it.
struct RawSignature(Vec<u8>);

impl signature::Keypair for BuilderKey<'_> {
    type VerifyingKey = ();
    fn verifying_key(&self) {}
}

impl spki::DynSignatureAlgorithmIdentifier for BuilderKey<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(signature_algorithm(self.0.algorithm()))
    }
}

impl spki::SignatureBitStringEncoding for RawSignature {
    fn to_bitstring(&self) -> der::Result<der::asn1::BitString> {
        der::asn1::BitString::new(0, self.0.clone())
    }
}

impl signature::Signer<RawSignature> for BuilderKey<'_> {
    fn try_sign(&self, msg: &[u8]) -> Result<RawSignature, signature::Error> {
        let digest: [u8; 32] = Sha256::digest(msg).into();
        self.0.sign_digest(&digest).map(RawSignature).map_err(|e| {
            tracing::error!(error = %e, "The key did not sign.");
            signature::Error::new()
        })
    }
}

fn cms_err(e: impl std::fmt::Display) -> SignError {
    SignError::Signing(format!("CMS: {e}"))
}

/// The DER ContentInfo of a detached SignedData over content whose SHA-256 is `digest`,
/// with a timestamp of the signature when `timestamper` is given (B-T).
pub fn signed_data(signer: &dyn Signer, digest: &[u8; 32], timestamper: Option<&dyn Timestamper>) -> Result<Vec<u8>, SignError> {
    let chain = signer.chain();
    let leaf = chain.first().ok_or_else(|| SignError::Signing("the key has no certificate".into()))?;
    let econtent = EncapsulatedContentInfo { econtent_type: const_oid::db::rfc5911::ID_DATA, econtent: None };
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: leaf.tbs_certificate.issuer.clone(),
        serial_number: leaf.tbs_certificate.serial_number.clone(),
    });
    let key = BuilderKey(signer);
    let mut info = SignerInfoBuilder::new(&key, sid, sha256_algorithm(), &econtent, Some(digest.as_slice())).map_err(cms_err)?;
    info.add_signed_attribute(ess_attribute(leaf).map_err(cms_err)?).map_err(cms_err)?;
    let mut builder = SignedDataBuilder::new(&econtent);
    builder.add_digest_algorithm(sha256_algorithm()).map_err(cms_err)?;
    for cert in chain {
        builder.add_certificate(CertificateChoices::Certificate(cert.clone())).map_err(cms_err)?;
    }
    builder.add_signer_info::<_, RawSignature>(info).map_err(cms_err)?;
    let content = builder.build().map_err(cms_err)?;
    match timestamper {
        None => content.to_der().map_err(cms_err),
        Some(tsa) => add_timestamp(&content, tsa),
    }
}

/// `content` with the timestamp of each signer's signature value added (B-T).
fn add_timestamp(content: &ContentInfo, tsa: &dyn Timestamper) -> Result<Vec<u8>, SignError> {
    let mut data: SignedData = content.content.decode_as().map_err(cms_err)?;
    let mut infos: Vec<SignerInfo> = data.signer_infos.0.iter().cloned().collect();
    for info in &mut infos {
        let imprint: [u8; 32] = Sha256::digest(info.signature.as_bytes()).into();
        let token = tsa.timestamp(&imprint)?;
        let value = Any::from_der(&token).map_err(|e| SignError::Signing(format!("the timestamp token does not parse: {e}")))?;
        let attr = Attribute { oid: ID_AA_TIME_STAMP_TOKEN, values: SetOfVec::try_from(vec![value]).map_err(cms_err)? };
        let mut unsigned: Vec<Attribute> = info.unsigned_attrs.as_ref().map(|a| a.iter().cloned().collect()).unwrap_or_default();
        unsigned.push(attr);
        info.unsigned_attrs = Some(SetOfVec::try_from(unsigned).map_err(cms_err)?);
    }
    data.signer_infos = SignerInfos(SetOfVec::try_from(infos).map_err(cms_err)?);
    let content =
        ContentInfo { content_type: const_oid::db::rfc5911::ID_SIGNED_DATA, content: Any::from_der(&data.to_der().map_err(cms_err)?).map_err(cms_err)? };
    content.to_der().map_err(cms_err)
}

/// A DER value at the start of `bytes`, ignoring what follows (a `/Contents` string is
/// padded with zeros).
pub fn decode_prefix<'a, T: der::Decode<'a>>(bytes: &'a [u8]) -> der::Result<T> {
    let mut reader = der::SliceReader::new(bytes)?;
    T::decode(&mut reader)
}
