//! An RFC 3161 timestamp authority over HTTP (`--tsa URL`, `SOHOA_TSA_URL`): the
//! [`Timestamper`] that makes signatures PAdES B-T.
//!
//! One POST of a `TimeStampReq` (SHA-256 imprint, a random nonce, the TSA's certificate
//! asked for) as `application/timestamp-query`; the answer must be granted, carry a token,
//! and echo the nonce and the imprint. Plain `http://` only, over `std::net` with a
//! timeout (TSAs commonly serve HTTP: the token is signed, so the channel adds nothing to
//! its integrity); `https://` is refused at start-up with a message.

use crate::stages::sign::{SignError, Timestamper};
use der::{Decode, Encode};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Largest answer read from a TSA.
const MAX_RESPONSE: u64 = 1 << 20;

/// A timestamp authority at an `http://` URL.
#[derive(Debug, Clone)]
pub struct HttpTsa {
    url: url::Url,
    timeout: Duration,
}

impl HttpTsa {
    /// Checks the URL; `Err` says what is wrong with it.
    pub fn new(url: &str) -> Result<HttpTsa, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        match parsed.scheme() {
            "http" => {}
            "https" => return Err(format!("{url}: only http:// timestamp authorities are supported (RFC 3161 tokens are signed; use the TSA's http URL)")),
            other => return Err(format!("{url}: unsupported scheme {other}")),
        }
        if parsed.host_str().is_none() {
            return Err(format!("{url}: no host"));
        }
        Ok(HttpTsa { url: parsed, timeout: Duration::from_secs(30) })
    }

    fn fail(&self, reason: impl Into<String>) -> SignError {
        SignError::Timestamp { url: self.url.to_string(), reason: reason.into() }
    }

    fn post(&self, body: &[u8]) -> Result<Vec<u8>, SignError> {
        let host = self.url.host_str().unwrap_or_default();
        let port = self.url.port_or_known_default().unwrap_or(80);
        let addr = (host, port).to_socket_addrs().map_err(|e| self.fail(format!("cannot resolve: {e}")))?.next().ok_or_else(|| self.fail("no address"))?;
        let mut stream = TcpStream::connect_timeout(&addr, self.timeout).map_err(|e| self.fail(format!("cannot connect: {e}")))?;
        stream.set_read_timeout(Some(self.timeout)).and_then(|()| stream.set_write_timeout(Some(self.timeout))).map_err(|e| self.fail(e.to_string()))?;
        let path = match self.url.query() {
            Some(q) => format!("{}?{q}", self.url.path()),
            None => self.url.path().to_string(),
        };
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/timestamp-query\r\nAccept: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).map_err(|e| self.fail(format!("cannot send: {e}")))?;
        let mut answer = Vec::new();
        stream.take(MAX_RESPONSE).read_to_end(&mut answer).map_err(|e| self.fail(format!("no answer: {e}")))?;
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| self.fail("not an HTTP answer"))?;
        let head = String::from_utf8_lossy(&answer[..split]).to_string();
        let body = &answer[split + 4..];
        let status = head.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("");
        if status != "200" {
            return Err(self.fail(format!("answered HTTP {status}")));
        }
        let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked"));
        if chunked { dechunk(body).ok_or_else(|| self.fail("a broken chunked answer")) } else { Ok(body.to_vec()) }
    }
}

/// The body of a chunked HTTP answer.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&body[..line_end]).ok()?.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
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
    fn urls_and_chunks() {
        assert!(HttpTsa::new("http://127.0.0.1:3180/tsr").is_ok());
        assert!(HttpTsa::new("https://tsa.example/").unwrap_err().contains("only http://"));
        assert!(HttpTsa::new("ftp://x/").is_err());
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_deref(), Some(&b"abcde"[..]));
        assert_eq!(dechunk(b"5\r\nab"), None);
    }
}
