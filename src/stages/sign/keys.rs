//! Signing keys: the [`Signer`] seam and the software keys behind it.
//!
//! A [`Signer`] signs a SHA-256 digest and names its certificate chain: that is all a
//! PAdES signature needs from a key, and all a PKCS #11 token (`C_Sign` over a digest) or
//! a remote signing service offers, so either plugs in beside [`SoftwareSigner`].
//!
//! [`load_key_file`] reads a key and its chain from a PEM file (a `PRIVATE KEY`,
//! `EC PRIVATE KEY` or `RSA PRIVATE KEY` block and `CERTIFICATE` blocks, in any order) or
//! a PKCS #12 file (with a password). The key must be the one of a certificate in the file;
//! the chain is ordered signer first, then each issuer found in the file.

use super::SignError;
use der::{Decode, Encode};
use x509_cert::Certificate;

/// The key's algorithm, which decides the CMS signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256; signatures are DER `Ecdsa-Sig-Value`.
    EcdsaP256,
    /// RSA PKCS #1 v1.5 with SHA-256.
    Rsa,
}

/// A key that signs SHA-256 digests, with its certificate chain.
pub trait Signer: Send + Sync {
    /// The signer's certificate first, then its issuers (the root may be left out).
    fn chain(&self) -> &[Certificate];
    fn algorithm(&self) -> KeyAlgorithm;
    /// The signature of a SHA-256 digest.
    fn sign_digest(&self, sha256: &[u8; 32]) -> Result<Vec<u8>, SignError>;
}

enum SecretKey {
    P256(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::pkcs1v15::SigningKey<sha2::Sha256>>),
}

/// A private key held in memory, read from a file.
pub struct SoftwareSigner {
    key: SecretKey,
    chain: Vec<Certificate>,
}

impl std::fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareSigner").field("subject", &self.chain.first().map(|c| c.tbs_certificate.subject.to_string())).finish()
    }
}

impl Signer for SoftwareSigner {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn algorithm(&self) -> KeyAlgorithm {
        match self.key {
            SecretKey::P256(_) => KeyAlgorithm::EcdsaP256,
            SecretKey::Rsa(_) => KeyAlgorithm::Rsa,
        }
    }

    fn sign_digest(&self, sha256: &[u8; 32]) -> Result<Vec<u8>, SignError> {
        use signature::hazmat::PrehashSigner;
        match &self.key {
            SecretKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign_prehash(sha256).map_err(|e| SignError::Signing(e.to_string()))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            SecretKey::Rsa(k) => {
                let sig: rsa::pkcs1v15::Signature = k.sign_prehash(sha256).map_err(|e| SignError::Signing(e.to_string()))?;
                Ok(signature::SignatureEncoding::to_vec(&sig))
            }
        }
    }
}

impl SoftwareSigner {
    /// A signer from a PKCS #8 private key (DER) and certificates; see [`load_key_file`].
    pub fn from_pkcs8(pkcs8: &[u8], certs: Vec<Certificate>, path: &str) -> Result<SoftwareSigner, SignError> {
        use p256::pkcs8::DecodePrivateKey;
        let key = if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8) {
            SecretKey::P256(k)
        } else if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8) {
            SecretKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k)))
        } else {
            return Err(invalid(path, "the private key is neither ECDSA P-256 nor RSA (PKCS #8)"));
        };
        SoftwareSigner::new(key, certs, path)
    }

    fn new(key: SecretKey, certs: Vec<Certificate>, path: &str) -> Result<SoftwareSigner, SignError> {
        let public = public_key_der(&key).map_err(|e| invalid(path, &format!("cannot encode the public key: {e}")))?;
        let leaf = certs
            .iter()
            .position(|c| c.tbs_certificate.subject_public_key_info.to_der().is_ok_and(|d| d == public))
            .ok_or_else(|| invalid(path, "no certificate in the file belongs to its private key"))?;
        Ok(SoftwareSigner { key, chain: order_chain(certs, leaf) })
    }
}

fn public_key_der(key: &SecretKey) -> Result<Vec<u8>, String> {
    use p256::pkcs8::EncodePublicKey;
    match key {
        SecretKey::P256(k) => k.verifying_key().to_public_key_der().map(|d| d.into_vec()).map_err(|e| e.to_string()),
        SecretKey::Rsa(k) => {
            let private: &rsa::RsaPrivateKey = (**k).as_ref();
            let public = rsa::RsaPublicKey::from(private);
            public.to_public_key_der().map(|d| d.into_vec()).map_err(|e| e.to_string())
        }
    }
}

/// `certs[leaf]`, then its issuer, then that one's, as far as the file goes.
pub fn order_chain(mut certs: Vec<Certificate>, leaf: usize) -> Vec<Certificate> {
    let mut chain = vec![certs.remove(leaf)];
    loop {
        let last = chain.last().expect("the leaf");
        if last.tbs_certificate.issuer == last.tbs_certificate.subject {
            break;
        }
        match certs.iter().position(|c| c.tbs_certificate.subject == last.tbs_certificate.issuer) {
            Some(i) => chain.push(certs.remove(i)),
            None => break,
        }
    }
    chain
}

fn invalid(path: &str, reason: &str) -> SignError {
    SignError::KeyInvalid { path: path.to_string(), reason: reason.to_string() }
}

/// The PEM blocks of `text`: (label, DER).
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start..];
        let label_end = after[11..].find("-----").ok_or("a PEM header without its closing dashes")? + 11;
        let label = &after[11..label_end];
        let end_marker = format!("-----END {label}-----");
        let end = after.find(&end_marker).ok_or_else(|| format!("a PEM block {label} without its END line"))? + end_marker.len();
        let (_, der) = der::pem::decode_vec(&after.as_bytes()[..end]).map_err(|e| format!("PEM block {label}: {e}"))?;
        out.push((label.to_string(), der));
        rest = &after[end..];
    }
    Ok(out)
}

/// Reads a key and its certificate chain: a PEM file, or a PKCS #12 file opened with
/// `password` (`None` is the empty password).
pub fn load_key_file(path: &std::path::Path, password: Option<&str>) -> Result<SoftwareSigner, SignError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| SignError::KeyUnreadable { path: shown.clone(), source: e })?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN ") => load_pem(text, &shown),
        _ => load_pkcs12(&bytes, password.unwrap_or(""), &shown),
    }
}

fn load_pem(text: &str, path: &str) -> Result<SoftwareSigner, SignError> {
    let blocks = pem_blocks(text).map_err(|e| invalid(path, &e))?;
    let mut certs = Vec::new();
    let mut key = None;
    for (label, der) in &blocks {
        match label.as_str() {
            "CERTIFICATE" => certs.push(Certificate::from_der(der).map_err(|e| invalid(path, &format!("a certificate does not parse: {e}")))?),
            "PRIVATE KEY" => key = Some(KeyBlock::Pkcs8(der.clone())),
            "EC PRIVATE KEY" => key = Some(KeyBlock::Sec1(der.clone())),
            "RSA PRIVATE KEY" => key = Some(KeyBlock::Pkcs1(der.clone())),
            "ENCRYPTED PRIVATE KEY" => return Err(invalid(path, "encrypted PEM keys are not read; use a PKCS #12 file with --key-password-env")),
            _ => {}
        }
    }
    let key = key.ok_or_else(|| invalid(path, "no private key in the file (expected a PRIVATE KEY block and its CERTIFICATE)"))?;
    match key {
        KeyBlock::Pkcs8(der) => SoftwareSigner::from_pkcs8(&der, certs, path),
        KeyBlock::Sec1(der) => {
            let secret = p256::SecretKey::from_sec1_der(&der).map_err(|e| invalid(path, &format!("the EC key is not a P-256 key: {e}")))?;
            SoftwareSigner::new(SecretKey::P256(p256::ecdsa::SigningKey::from(secret)), certs, path)
        }
        KeyBlock::Pkcs1(der) => {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            let k = rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| invalid(path, &format!("the RSA key does not parse: {e}")))?;
            SoftwareSigner::new(SecretKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k))), certs, path)
        }
    }
}

enum KeyBlock {
    Pkcs8(Vec<u8>),
    Sec1(Vec<u8>),
    Pkcs1(Vec<u8>),
}

fn load_pkcs12(bytes: &[u8], password: &str, path: &str) -> Result<SoftwareSigner, SignError> {
    let store = p12_keystore::KeyStore::from_pkcs12(bytes, password)
        .map_err(|e| invalid(path, &format!("neither PEM nor a PKCS #12 file that opens with this password: {e}")))?;
    for (_alias, entry) in store.entries() {
        if let p12_keystore::KeyStoreEntry::PrivateKeyChain(chain) = entry {
            let certs = chain
                .chain()
                .iter()
                .map(|c| Certificate::from_der(c.as_der()).map_err(|e| invalid(path, &format!("a certificate does not parse: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            return SoftwareSigner::from_pkcs8(chain.key(), certs, path);
        }
    }
    Err(invalid(path, "the PKCS #12 file holds no private key"))
}

/// A certificate's subject attribute (organisation, common name), as text.
pub fn subject_attribute(cert: &Certificate, oid: const_oid::ObjectIdentifier) -> Option<String> {
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == oid {
                return std::str::from_utf8(atv.value.value()).ok().map(str::to_string);
            }
        }
    }
    None
}

/// Who a certificate names: its organisation, else its common name.
pub fn organisation(cert: &Certificate) -> String {
    subject_attribute(cert, const_oid::db::rfc4519::O)
        .or_else(|| subject_attribute(cert, const_oid::db::rfc4519::CN))
        .unwrap_or_else(|| cert.tbs_certificate.subject.to_string())
}

/// A certificate's common name, else its whole subject.
pub fn common_name(cert: &Certificate) -> String {
    subject_attribute(cert, const_oid::db::rfc4519::CN).unwrap_or_else(|| cert.tbs_certificate.subject.to_string())
}
