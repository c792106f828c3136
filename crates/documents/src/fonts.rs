//! The embedded subset of *Noto Serif CJK SC* (Regular and Bold, SIL OFL 1.1, see
//! `assets/fonts/SOURCE.txt`): the documents' typeface, and the text of the console's exported
//! drawings (heat maps as PNG), so that a server without fonts draws Chinese the same way.
//! Always built, with or without the `pdf` feature.

/// The family name inside the font files.
pub const FAMILY: &str = "Noto Serif CJK SC";

pub static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/NotoSerifCJKsc-Regular-subset.otf");
pub static BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSerifCJKsc-Bold-subset.otf");
