//! QR codes for the authenticator app's set-up, drawn on the server as SVG markup: the
//! secret never reaches a third-party service or a script, and the markup holds only shapes
//! with `fill` attributes (no `style`), which the console's CSP allows inline.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The SVG of a QR code holding `text`, black on white with its quiet zone (so it scans in
/// dark mode too), scaled by the page's stylesheet, described to screen readers as `label`
/// (plain text, no markup); `None` if `text` does not fit in a QR code.
pub fn svg(text: &str, label: &'static str) -> Option<String> {
    // Medium error correction: an `otpauth://` URI fits at a size phones read easily.
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color>()
        .quiet_zone(true)
        .module_dimensions(4, 4)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML, the XML declaration the renderer starts with has no place.
    let start = image.find("<svg ")?;
    let rest = &image[start + "<svg ".len()..];
    Some(format!(r#"<svg role="img" aria-label="{label}" {rest}"#))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_is_bare_markup_without_style() {
        let image = svg(
            "otpauth://totp/Roster:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Roster",
            "A QR code",
        )
        .unwrap();
        assert!(
            image.starts_with(r#"<svg role="img" aria-label="A QR code" xmlns="#),
            "{image}"
        );
        assert!(image.ends_with("</svg>"), "{image}");
        assert!(!image.contains("style"), "{image}");
        assert!(!image.contains("<script"), "{image}");
        assert!(image.contains(r##"fill="#000000""##), "{image}");
    }

    #[test]
    fn text_too_long_for_a_qr_code_has_none() {
        assert_eq!(svg(&"x".repeat(5000), "A QR code"), None);
    }
}
