//! The ICC profiles of the PDF/A OutputIntent, made by this code (no profile file is
//! shipped or read): small ICC v2.1 display profiles.
//!
//! - sRGB (IEC 61966-2-1): the sRGB primaries adapted to the D50 PCS (Bradford, as in the
//!   ICC's own sRGB profiles), the sRGB tone curve sampled at 1024 points; 3 components.
//! - Gray: the same tone curve on one component (gray pages and bilevel pages).
//!
//! A PDF/A file names one output intent; [`srgb`] is used when any page is in colour
//! (DeviceRGB needs an RGB intent), else [`gray`]. Pure and deterministic: the same bytes
//! every time (the header's date is fixed).

/// D50, the PCS illuminant, as XYZ.
const D50: [f64; 3] = [0.9642, 1.0, 0.8249];
/// The sRGB primaries' XYZ adapted to D50 (columns of the Bradford-adapted matrix).
const SRGB_RED: [f64; 3] = [0.4361, 0.2225, 0.0139];
const SRGB_GREEN: [f64; 3] = [0.3851, 0.7169, 0.0971];
const SRGB_BLUE: [f64; 3] = [0.1431, 0.0606, 0.7141];
/// Points of the sampled tone curve.
const CURVE_POINTS: usize = 1024;

/// Description of the sRGB profile (also the OutputIntent's condition identifier).
pub const SRGB_NAME: &str = "sRGB IEC61966-2.1";
/// Description of the gray profile.
pub const GRAY_NAME: &str = "sohoa gray (sRGB tone curve, D50)";

/// The sRGB profile: 3 components, RGB data, XYZ PCS.
pub fn srgb() -> Vec<u8> {
    let curve = tone_curve();
    profile(
        b"RGB ",
        &[
            (*b"desc", desc(SRGB_NAME)),
            (*b"cprt", text("No copyright, use freely")),
            (*b"wtpt", xyz(D50)),
            (*b"rXYZ", xyz(SRGB_RED)),
            (*b"gXYZ", xyz(SRGB_GREEN)),
            (*b"bXYZ", xyz(SRGB_BLUE)),
            (*b"rTRC", curve.clone()),
            (*b"gTRC", curve.clone()),
            (*b"bTRC", curve),
        ],
    )
}

/// The gray profile: 1 component, gray data, XYZ PCS.
pub fn gray() -> Vec<u8> {
    profile(b"GRAY", &[(*b"desc", desc(GRAY_NAME)), (*b"cprt", text("No copyright, use freely")), (*b"wtpt", xyz(D50)), (*b"kTRC", tone_curve())])
}

/// A v2.1 display-class profile of `space` with these tags, in order. Identical tag data
/// is stored once (the three TRCs of sRGB share one curve).
fn profile(space: &[u8; 4], tags: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
    let table_len = 4 + 12 * tags.len();
    let mut data: Vec<u8> = Vec::new();
    let mut entries: Vec<([u8; 4], u32, u32)> = Vec::new();
    let mut stored: Vec<(usize, u32)> = Vec::new(); // (tag index, offset)
    for (i, (sig, body)) in tags.iter().enumerate() {
        let offset = match stored.iter().find(|(j, _)| tags[*j].1 == *body) {
            Some(&(_, off)) => off,
            None => {
                let off = (128 + table_len + data.len()) as u32;
                data.extend_from_slice(body);
                while !data.len().is_multiple_of(4) {
                    data.push(0);
                }
                stored.push((i, off));
                off
            }
        };
        entries.push((*sig, offset, body.len() as u32));
    }
    let size = 128 + table_len + data.len();
    let mut out = Vec::with_capacity(size);
    out.extend((size as u32).to_be_bytes());
    out.extend([0u8; 4]); // preferred CMM: none
    out.extend([0x02, 0x10, 0, 0]); // version 2.1
    out.extend(b"mntr");
    out.extend(space);
    out.extend(b"XYZ ");
    for v in [2026u16, 1, 1, 0, 0, 0] {
        out.extend(v.to_be_bytes()); // creation date, fixed
    }
    out.extend(b"acsp");
    out.extend([0u8; 4]); // platform
    out.extend([0u8; 4]); // flags
    out.extend([0u8; 4]); // device manufacturer
    out.extend([0u8; 4]); // device model
    out.extend([0u8; 8]); // device attributes
    out.extend(0u32.to_be_bytes()); // rendering intent: perceptual
    for v in D50 {
        out.extend(s15f16(v));
    }
    out.extend([0u8; 4]); // creator
    out.resize(128, 0); // profile ID (v4 only) and reserved bytes
    out.extend((tags.len() as u32).to_be_bytes());
    for (sig, offset, len) in entries {
        out.extend(sig);
        out.extend(offset.to_be_bytes());
        out.extend(len.to_be_bytes());
    }
    out.extend(data);
    out
}

fn s15f16(v: f64) -> [u8; 4] {
    ((v * 65536.0).round() as i32).to_be_bytes()
}

fn xyz(v: [f64; 3]) -> Vec<u8> {
    let mut out = b"XYZ \0\0\0\0".to_vec();
    for c in v {
        out.extend(s15f16(c));
    }
    out
}

/// `textDescriptionType` (v2): ASCII description, empty Unicode and ScriptCode parts.
fn desc(s: &str) -> Vec<u8> {
    let mut out = b"desc\0\0\0\0".to_vec();
    out.extend((s.len() as u32 + 1).to_be_bytes());
    out.extend(s.as_bytes());
    out.push(0);
    out.extend([0u8; 4]); // Unicode language code
    out.extend([0u8; 4]); // Unicode count
    out.extend([0u8; 2]); // ScriptCode code
    out.push(0); // ScriptCode count
    out.extend([0u8; 67]);
    out
}

fn text(s: &str) -> Vec<u8> {
    let mut out = b"text\0\0\0\0".to_vec();
    out.extend(s.as_bytes());
    out.push(0);
    out
}

/// `curveType` sampling the sRGB electro-optical transfer function.
fn tone_curve() -> Vec<u8> {
    let mut out = b"curv\0\0\0\0".to_vec();
    out.extend((CURVE_POINTS as u32).to_be_bytes());
    for i in 0..CURVE_POINTS {
        let v = i as f64 / (CURVE_POINTS - 1) as f64;
        let linear = if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) };
        out.extend(((linear * 65535.0).round() as u16).to_be_bytes());
    }
    out
}

/// Components of a profile from its header's colour space (1 gray, 3 RGB, 4 CMYK), `None`
/// for data that is not an ICC profile of a version PDF/A-2 accepts (2.x to 4.x).
pub fn components(profile: &[u8]) -> Option<usize> {
    if profile.len() < 132 || &profile[36..40] != b"acsp" {
        return None;
    }
    let size = u32::from_be_bytes(profile[0..4].try_into().ok()?) as usize;
    if size != profile.len() || !(2..=4).contains(&profile[8]) {
        return None;
    }
    match &profile[16..20] {
        b"GRAY" => Some(1),
        b"RGB " => Some(3),
        b"CMYK" => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag<'a>(p: &'a [u8], sig: &[u8; 4]) -> Option<&'a [u8]> {
        let n = u32::from_be_bytes(p[128..132].try_into().unwrap()) as usize;
        (0..n).find_map(|i| {
            let e = &p[132 + 12 * i..144 + 12 * i];
            let off = u32::from_be_bytes(e[4..8].try_into().unwrap()) as usize;
            let len = u32::from_be_bytes(e[8..12].try_into().unwrap()) as usize;
            (&e[..4] == sig).then(|| &p[off..off + len])
        })
    }

    #[test]
    fn srgb_profile_is_well_formed() {
        let p = srgb();
        assert_eq!(components(&p), Some(3));
        assert_eq!(&p[12..16], b"mntr");
        assert_eq!(u32::from_be_bytes(p[0..4].try_into().unwrap()) as usize, p.len());
        for sig in [b"desc", b"cprt", b"wtpt", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"] {
            let body = tag(&p, sig).unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(sig)));
            assert!(body.len() >= 12);
        }
        // The primaries add up to the white point (within the fixed-point rounding).
        let col = |sig: &[u8; 4], i: usize| i32::from_be_bytes(tag(&p, sig).unwrap()[8 + 4 * i..12 + 4 * i].try_into().unwrap()) as f64 / 65536.0;
        for (i, w) in D50.iter().enumerate() {
            assert!((col(b"rXYZ", i) + col(b"gXYZ", i) + col(b"bXYZ", i) - w).abs() < 0.002, "component {i}");
        }
        // The curve: 0 → 0, 1 → 1, mid-gray 0.5 → about 0.214 linear.
        let trc = tag(&p, b"rTRC").unwrap();
        let at = |i: usize| u16::from_be_bytes(trc[12 + 2 * i..14 + 2 * i].try_into().unwrap());
        assert_eq!((at(0), at(CURVE_POINTS - 1)), (0, 65535));
        let mid = at(CURVE_POINTS / 2) as f64 / 65535.0;
        assert!((mid - 0.2145).abs() < 0.002, "{mid}");
        // Shared curve: stored once.
        assert!(p.len() < 128 + 4 + 9 * 12 + 2 * (12 + 2 * CURVE_POINTS), "{} bytes", p.len());
        assert_eq!(srgb(), p, "deterministic");
    }

    #[test]
    fn gray_profile_is_well_formed() {
        let p = gray();
        assert_eq!(components(&p), Some(1));
        assert!(tag(&p, b"kTRC").is_some());
        assert!(components(&p[..100]).is_none());
        let mut bad = p.clone();
        bad[36] = b'x';
        assert!(components(&bad).is_none());
    }
}
