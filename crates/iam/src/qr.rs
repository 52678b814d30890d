//! A QR code as a PNG image (the `QRCodePNG` of CreateVirtualMFADevice).
use qrcode::{Color, QrCode};
use rampart_aws_types::AwsError;

/// Pixels per QR module and the quiet zone around the code, in modules.
const SCALE: usize = 6;
const QUIET: usize = 4;

pub fn png(text: &str) -> Result<Vec<u8>, AwsError> {
    let code =
        QrCode::new(text.as_bytes()).map_err(|_| AwsError::internal("cannot make a QR code"))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
        for dy in 0..SCALE {
            let row = (my * SCALE + dy) * side;
            for dx in 0..SCALE {
                if let Some(p) = pixels.get_mut(row + mx * SCALE + dx) {
                    *p = 0;
                }
            }
        }
    }
    let side32 = u32::try_from(side).map_err(|_| AwsError::internal("QR code too large"))?;
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side32, side32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|_| AwsError::internal("cannot write a PNG"))?;
        writer
            .write_image_data(&pixels)
            .map_err(|_| AwsError::internal("cannot write a PNG"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_a_decodable_png() {
        let bytes = png("otpauth://totp/Rampart:alice?secret=ABC").unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!(info.width, info.height);
        assert_eq!(info.width as usize % SCALE, 0);
    }
}
