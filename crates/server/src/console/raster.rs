//! Drawings to PNG (resvg): the console's SVG rasterised with the embedded Chinese font only, so
//! that a server without fonts draws names and legends the same way as any other.

use std::sync::{Arc, LazyLock};

use resvg::{tiny_skia, usvg};

/// The embedded font, parsed once.
static FONTS: LazyLock<Arc<usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut fonts = usvg::fontdb::Database::new();
    fonts.load_font_data(fq_documents::fonts::REGULAR.to_vec());
    fonts.load_font_data(fq_documents::fonts::BOLD.to_vec());
    fonts.set_serif_family(fq_documents::fonts::FAMILY);
    fonts.set_sans_serif_family(fq_documents::fonts::FAMILY);
    Arc::new(fonts)
});

/// `svg` as PNG bytes at `scale` times its size, on white.
pub(crate) fn png(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    let options = usvg::Options {
        fontdb: Arc::clone(&FONTS),
        font_family: fq_documents::fonts::FAMILY.to_owned(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("the drawing is not SVG: {e}"))?;
    let size = tree.size();
    let (width, height) = ((size.width() * scale).ceil() as u32, (size.height() * scale).ceil() as u32);
    let mut pixmap = tiny_skia::Pixmap::new(width.max(1), height.max(1))
        .ok_or_else(|| format!("cannot allocate a {width}×{height} picture"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("cannot encode the picture: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawing_with_chinese_text_becomes_a_png_of_twice_its_size() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="60" height="40" fill="#d7263d"/><text x="62" y="25" font-size="14">路桥区</text></svg>"##;
        let bytes = png(svg, 2.0).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // The IHDR chunk: width and height, big-endian, after the signature and the chunk header.
        let (w, h) =
            (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()));
        assert_eq!((w, h), (240, 80));
        // The text drew something: the picture differs from one without it.
        let blank = png(&svg.replace("路桥区", ""), 2.0).unwrap();
        assert_ne!(bytes, blank);
        assert!(png("<p>not svg</p>", 1.0).unwrap_err().contains("not SVG"));
    }
}
