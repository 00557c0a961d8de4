//! Cover images, as WeChat's image host serves them for a listing's `thumb_url`: one small
//! PNG per cover, its colour drawn from the cover's id (so each message looks its own). What
//! the server answers (404 under the `broken_covers` quirk) is in `server.rs`.

/// Where covers are served, below the simulator's address.
pub(crate) const PATH: &str = "/mmbiz/";

/// The `thumb_url` of a cover; empty where the server has no address (a world in a test).
pub(crate) fn url(base: &str, media_id: &str) -> String {
    if base.is_empty() || media_id.is_empty() {
        String::new()
    } else {
        format!("{base}{media_id}.png")
    }
}

/// A 96×54 picture (WeChat's covers are wide): a colour from the id, a lighter band below.
pub(crate) fn picture(id: &str) -> Result<Vec<u8>, png::EncodingError> {
    const W: u32 = 96;
    const H: u32 = 54;
    let h = id.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let base = [
        64 + (h & 0x7f) as u8,
        64 + ((h >> 8) & 0x7f) as u8,
        64 + ((h >> 16) & 0x7f) as u8,
    ];
    let mut pixels = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H {
        for _ in 0..W {
            let lift = if y > H * 2 / 3 { 60 } else { 0 };
            pixels.extend(base.iter().map(|c| c.saturating_add(lift)));
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, W, H);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cover_is_a_png_of_its_own_colour() {
        let a = super::picture("cover_a").unwrap();
        let b = super::picture("cover_b").unwrap();
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        assert_ne!(a, b);
        assert_eq!(super::url("", "cover_a"), "");
        assert_eq!(
            super::url("http://h/mmbiz/", "cover_a"),
            "http://h/mmbiz/cover_a.png"
        );
    }
}
