//! The textual form of a UUID (RFC 9562 §4), for ids held as `u128`.
//!
//! Generating UUIDs needs randomness and a clock, so it lives behind the
//! application's `IdGenerator` port; the domain only has to read and print
//! them, which is this small, fully tested piece of std-only code.

use std::fmt;

const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// Parses the 36-character hyphenated form, in either hex case.
pub fn parse(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut bits: u128 = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if HYPHENS.contains(&index) {
            if byte != b'-' {
                return None;
            }
            continue;
        }
        let nibble = char::from(byte).to_digit(16)?;
        bits = (bits << 4) | u128::from(nibble);
    }
    Some(bits)
}

/// Writes the lowercase hyphenated form.
pub fn write(bits: u128, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let hex = format!("{bits:032x}");
    write!(
        f,
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The version nibble (bits 48..52 counted from the most significant bit).
pub fn version(bits: u128) -> u8 {
    // Truncation is the point: the value is masked to four bits.
    #[allow(clippy::cast_possible_truncation)]
    let nibble = ((bits >> 76) & 0xF) as u8;
    nibble
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Shown(u128);
    impl fmt::Display for Shown {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write(self.0, f)
        }
    }

    #[test]
    fn parsing_then_printing_gives_back_the_lowercase_text() {
        let text = "01890a5d-ac96-774b-bcce-b302099a8057";
        let bits = parse(text);
        assert_eq!(bits.map(|b| Shown(b).to_string()), Some(text.to_owned()));
        assert_eq!(bits.map(version), Some(7));
    }

    #[test]
    fn text_with_misplaced_hyphens_or_non_hex_digits_is_not_a_uuid() {
        assert_eq!(parse("01890a5dac96-774b-bcce-b302099a8057-"), None);
        assert_eq!(parse("01890a5d-ac96-774b-bcce-b302099a805g"), None);
        assert_eq!(parse("01890a5d-ac96-774b-bcce-b302099a805"), None);
        assert_eq!(parse("+1890a5d-ac96-774b-bcce-b302099a8057"), None);
    }
}
