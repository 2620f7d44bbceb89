//! An RFC 3161 timestamp authority over HTTP or HTTPS (`--tsa URL`, `SOHOA_TSA_URL`): the
//! [`Timestamper`] that makes signatures PAdES B-T.
//!
//! One POST of a `TimeStampReq` (SHA-256 imprint, a random nonce, the TSA's certificate
//! asked for) as `application/timestamp-query`; the answer must be granted, carry a token,
//! and echo the nonce and the imprint. The HTTP client is reqwest's blocking one (signing
//! runs on page threads and blocking tasks, never on the async runtime), made on first use,
//! with a timeout; `https://` servers are checked against the system's roots (on Linux
//! also `SSL_CERT_FILE` / `SSL_CERT_DIR`).

use crate::stages::sign::{SignError, Timestamper};
use der::{Decode, Encode};
use std::io::Read;
use std::sync::OnceLock;
use std::time::Duration;

/// Largest answer read from a TSA.
const MAX_RESPONSE: u64 = 1 << 20;

/// A timestamp authority at an `http://` or `https://` URL.
#[derive(Debug, Clone)]
pub struct HttpTsa {
    url: url::Url,
    timeout: Duration,
    client: OnceLock<reqwest::blocking::Client>,
}

impl HttpTsa {
    /// Checks the URL; `Err` says what is wrong with it.
    pub fn new(url: &str) -> Result<HttpTsa, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        match parsed.scheme() {
            "http" | "https" => {}
            other => return Err(format!("{url}: unsupported scheme {other} (give an http:// or https:// URL)")),
        }
        if parsed.host_str().is_none() {
            return Err(format!("{url}: no host"));
        }
        Ok(HttpTsa { url: parsed, timeout: Duration::from_secs(30), client: OnceLock::new() })
    }

    fn fail(&self, reason: impl Into<String>) -> SignError {
        SignError::Timestamp { url: self.url.to_string(), reason: reason.into() }
    }

    fn client(&self) -> Result<&reqwest::blocking::Client, SignError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(self.timeout)
            .user_agent(concat!("sohoa/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| self.fail(format!("cannot make an HTTP client: {e}")))?;
        Ok(self.client.get_or_init(|| client))
    }

    fn post(&self, body: &[u8]) -> Result<Vec<u8>, SignError> {
        let answer = self
            .client()?
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
            .header(reqwest::header::ACCEPT, "application/timestamp-reply")
            .body(body.to_vec())
            .send()
            .map_err(|e| self.fail(format!("no answer: {e}")))?;
        if !answer.status().is_success() {
            return Err(self.fail(format!("answered HTTP {}", answer.status())));
        }
        let mut out = Vec::new();
        answer.take(MAX_RESPONSE).read_to_end(&mut out).map_err(|e| self.fail(format!("the answer broke off: {e}")))?;
        Ok(out)
    }
}

impl Timestamper for HttpTsa {
    fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, SignError> {
        // A positive 64-bit nonce in its minimal DER form (top bits 01).
        let mut nonce: [u8; 8] = rand::random();
        nonce[0] = (nonce[0] & 0x3f) | 0x40;
        let nonce = der::asn1::Int::new(&nonce).map_err(|e| self.fail(e.to_string()))?;
        let request = x509_tsp::TimeStampReq {
            version: x509_tsp::TspVersion::V1,
            message_imprint: x509_tsp::MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifier { oid: const_oid::db::rfc5912::ID_SHA_256, parameters: None },
                hashed_message: der::asn1::OctetString::new(imprint.to_vec()).map_err(|e| self.fail(e.to_string()))?,
            },
            req_policy: None,
            nonce: Some(nonce.clone()),
            cert_req: true,
            extensions: None,
        };
        let body = request.to_der().map_err(|e| self.fail(e.to_string()))?;
        let answer = self.post(&body)?;
        let response = x509_tsp::TimeStampResp::from_der(&answer).map_err(|e| self.fail(format!("not a TimeStampResp: {e}")))?;
        use cmpv2::status::PkiStatus;
        if !matches!(response.status.status, PkiStatus::Accepted | PkiStatus::GrantedWithMods) {
            return Err(self.fail(format!("refused the request ({:?})", response.status.status)));
        }
        let token = response.time_stamp_token.ok_or_else(|| self.fail("granted without a token"))?;
        let data: cms::signed_data::SignedData = token.content.decode_as().map_err(|e| self.fail(format!("the token does not parse: {e}")))?;
        let tst = data
            .encap_content_info
            .econtent
            .as_ref()
            .and_then(|c| c.decode_as::<der::asn1::OctetString>().ok())
            .and_then(|o| x509_tsp::TstInfo::from_der(o.as_bytes()).ok())
            .ok_or_else(|| self.fail("the token holds no TSTInfo"))?;
        if tst.nonce.as_ref() != Some(&nonce) || tst.message_imprint.hashed_message.as_bytes() != imprint {
            return Err(self.fail("the token is not an answer to this request (nonce or imprint differ)"));
        }
        token.to_der().map_err(|e| self.fail(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(HttpTsa::new("http://127.0.0.1:3180/tsr").is_ok());
        assert!(HttpTsa::new("https://tsa.example/").is_ok());
        assert!(HttpTsa::new("ftp://x/").unwrap_err().contains("unsupported scheme"));
        assert!(HttpTsa::new("tsa.example").is_err());
    }

    #[test]
    fn an_unreachable_authority_is_a_timestamp_error() {
        // A port nothing listens on (bound, then closed).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let tsa = HttpTsa::new(&format!("http://127.0.0.1:{port}/")).unwrap();
        match tsa.timestamp(&[7; 32]) {
            Err(SignError::Timestamp { url, reason }) => assert!(url.contains(&port.to_string()) && reason.starts_with("no answer"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
