//! The stored part: the processed pages of one `pages` job, as one object in the store,
//! read back by the batch's `assemble` job (possibly on another machine, possibly by a
//! worker of another version).
//!
//! The bytes are a magic, a format version and the postcard encoding of [`StoredPart`].
//! A part of another version is refused with [`PartError::Version`] (the assembler then
//! has the part redone, saying why), never misread.

use crate::runtime::pipeline::PageDone;

/// The first bytes of every stored part.
const MAGIC: &[u8; 8] = b"sohoapt\0";
/// The format written and read by this version of sohoa. Raise it with any change to [`StoredPart`]
/// or the types inside it.
pub const PART_FORMAT_VERSION: u32 = 4;

/// The processed pages of one `pages` job.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredPart {
    pub batch_id: String,
    pub start: usize,
    pub end: usize,
    pub pages: Vec<PageDone>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PartError {
    #[error("not a stored part (no part header): written by a worker older than format version 2")]
    NoHeader,
    #[error("stored part has format version {found}; this worker reads version {PART_FORMAT_VERSION}")]
    Version { found: u32 },
    #[error("stored part does not decode: {0}")]
    Decode(String),
}

impl StoredPart {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&PART_FORMAT_VERSION.to_le_bytes());
        postcard::to_io(self, &mut out).expect("a part serialises into memory");
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<StoredPart, PartError> {
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(PartError::NoHeader)?;
        let (version, body) = rest.split_first_chunk::<4>().ok_or(PartError::NoHeader)?;
        let found = u32::from_le_bytes(*version);
        if found != PART_FORMAT_VERSION {
            return Err(PartError::Version { found });
        }
        postcard::from_bytes(body).map_err(|e| PartError::Decode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_round_trips_and_another_version_is_refused() {
        let part = StoredPart { batch_id: "bat_1".into(), start: 4, end: 4, pages: Vec::new() };
        let bytes = part.to_bytes();
        let back = StoredPart::from_bytes(&bytes).unwrap();
        assert_eq!((back.batch_id.as_str(), back.start, back.end), ("bat_1", 4, 4));
        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&(PART_FORMAT_VERSION + 1).to_le_bytes());
        assert_eq!(StoredPart::from_bytes(&newer).unwrap_err(), PartError::Version { found: PART_FORMAT_VERSION + 1 });
        // A part of the format before the header: postcard bytes straight away.
        let legacy = postcard::to_stdvec(&part).unwrap();
        assert_eq!(StoredPart::from_bytes(&legacy).unwrap_err(), PartError::NoHeader);
        assert!(matches!(StoredPart::from_bytes(&bytes[..10]), Err(PartError::NoHeader)));
    }

    /// Every field of a page image survives the part format, with and without photos
    /// (postcard is not self-describing: a field skipped when empty would break it).
    #[test]
    fn page_images_round_trip_in_the_part_format() {
        use crate::model::{ColorMode, EncodedImage, ImageFilter, PhotoPatch, TextMask};
        for photos in [vec![], vec![PhotoPatch { x: 1, y: 2, width: 3, height: 4, data: vec![7, 7] }]] {
            let mask = TextMask { bg_width: 5, bg_height: 4, ink: [1, 2, 3], data: vec![9], photos };
            let enc = EncodedImage { width: 10, height: 8, color: ColorMode::Rgb, filter: ImageFilter::Dct, data: vec![1, 2, 3], mask: Some(mask) };
            let back: EncodedImage = postcard::from_bytes(&postcard::to_stdvec(&enc).unwrap()).unwrap();
            assert_eq!(back, enc);
        }
    }
}
