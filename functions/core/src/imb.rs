//! USPS Intelligent Mail barcode (IMb, specification USPS-B-3200): encoder and decoder.
//!
//! An IMb carries a 20-digit *tracking code* (barcode ID, service type ID, mailer ID and serial
//! number) and an optional *routing code* (the delivery ZIP code: 0, 5, 9 or 11 digits) in 65
//! four-state bars, written here as the letters
//!
//! * `F` full bar (ascender and descender),
//! * `A` ascender only,
//! * `D` descender only,
//! * `T` tracker (neither).
//!
//! Encoding, in the order of the specification:
//!
//! 1. the routing code becomes an integer (none → 0, 5 digits → z + 1, 9 digits → z + 100 001,
//!    11 digits → z + 1 000 100 001), the first barcode-ID digit is appended in base 10, the
//!    second in base 5 and the other 18 tracking digits in base 10, giving a 102-bit value;
//! 2. an 11-bit CRC (generator 0xF35, initial value 0x7FF) is computed over those 102 bits;
//! 3. the value is split into ten codewords A..J: J in base 636, I..B in base 1365, A is the rest
//!    (at most 658);
//! 4. J is doubled (so that a barcode read upside down is recognised) and bit 10 of the frame
//!    check sequence adds 659 to A;
//! 5. each codeword selects a 13-bit character from the 5-of-13 table (codewords 0..=1286) or
//!    the 2-of-13 table (1287..=1364); frame-check bits 0..=9 invert (13-bit complement)
//!    characters A..J;
//! 6. a fixed table assigns each bar one bit of one character for its descender and one for its
//!    ascender.
//!
//! [`decode`] inverts every step exactly and verifies the frame check, so a single damaged bar
//! is always rejected (each bar carries two bits of two *different* characters, and flipping one
//! bit of a character moves it out of both tables).
//!
//! Only `std` is used; the character tables are built once, on first use.

use std::fmt;

/// The data carried by an Intelligent Mail barcode: the fields of the 20-digit tracking code and
/// the routing (ZIP) code.
///
/// Values built by [`ImbData::parse`], [`ImbData::parse_digits`] and [`decode`] are always
/// valid. A value assembled by hand can be checked with [`ImbData::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImbData {
    /// Barcode identifier, 2 digits (00..=94); its second digit must be 0..=4.
    pub barcode_id: u8,
    /// Service type identifier (STID), 3 digits (000..=999).
    pub service_type_id: u16,
    /// Mailer identifier: either 6 digits starting with 0..=8 (0..=899 999) or 9 digits
    /// starting with 9 (900 000 000..=999 999 999).
    pub mailer_id: u32,
    /// Serial number: 9 digits with a 6-digit mailer ID, 6 digits with a 9-digit mailer ID
    /// (mailer ID and serial number together always take 15 digits).
    pub serial: u64,
    /// Routing (delivery point ZIP) code: empty, or 5, 9 or 11 ASCII digits.
    pub routing: String,
}

/// What is wrong with an IMb input: the text given to [`ImbData::parse`],
/// [`ImbData::parse_digits`] or [`encode_str`], the fields of an [`ImbData`], or the bars given
/// to [`decode`].
///
/// Positions are 1-based (the first character or bar is 1), as the specification numbers bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImbError {
    /// The tracking code contains something other than an ASCII digit.
    TrackingNonDigit {
        /// 1-based position of the character within the tracking code.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The tracking code does not have exactly 20 characters.
    TrackingLength {
        /// Number of characters found.
        actual: usize,
    },
    /// The routing code contains something other than an ASCII digit.
    RoutingNonDigit {
        /// 1-based position of the character within the routing code.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The routing code does not have 0, 5, 9 or 11 characters.
    RoutingLength {
        /// Number of characters found.
        actual: usize,
    },
    /// A combined digit string (tracking code followed by routing code) does not have 20, 25, 29
    /// or 31 characters.
    DigitsLength {
        /// Number of characters found.
        actual: usize,
    },
    /// The second digit of the barcode ID is not 0..=4.
    BarcodeIdSecondDigit {
        /// The digit found (5..=9).
        digit: u8,
    },
    /// A numeric field of an [`ImbData`] is larger than its digits allow.
    FieldOutOfRange {
        /// Which field ("barcode ID", "service type ID" or "serial number").
        field: &'static str,
        /// The value found.
        value: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// The mailer ID is neither 6 digits starting with 0..=8 nor 9 digits starting with 9.
    InvalidMailerId {
        /// The value found.
        mailer_id: u32,
    },
    /// The bar string does not have 65 bars (after surrounding whitespace is removed).
    BarLength {
        /// Number of characters found.
        actual: usize,
    },
    /// A bar is not one of `F`, `A`, `D`, `T` (either case).
    InvalidBar {
        /// 1-based bar number.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The bars of one character (A..J) form a 13-bit pattern that is in neither the 5-of-13
    /// nor the 2-of-13 table, directly or complemented: not a valid IMb (typically a misread
    /// or damaged bar).
    InvalidCharacter {
        /// The character, `'A'..='J'`.
        character: char,
        /// Its 13 bits as read.
        bits: u16,
    },
    /// A codeword is outside the values an encoder can produce (codeword A above 1317, or
    /// codeword J odd or above 1270): not a valid IMb.
    CodewordOutOfRange {
        /// The codeword, `'A'` or `'J'`.
        codeword: char,
        /// Its value as read (for A, including the 659 added for frame-check bit 10).
        value: u16,
    },
    /// The frame check sequence carried by the bars does not match the CRC-11 of the data.
    FrameCheckMismatch {
        /// The CRC-11 computed from the decoded data.
        expected: u16,
        /// The frame check sequence carried by the bars.
        found: u16,
    },
    /// The bars were read in the wrong orientation: the string decodes when reversed with
    /// ascenders and descenders swapped.
    UpsideDown,
    /// The decoded 102-bit value is larger than any tracking and routing code can produce.
    ValueOutOfRange {
        /// The decoded value.
        value: u128,
    },
}

impl fmt::Display for ImbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImbError::TrackingNonDigit { position, found } => write!(
                f,
                "tracking code character {position} is {found:?}, expected a digit 0-9"
            ),
            ImbError::TrackingLength { actual } => {
                write!(
                    f,
                    "tracking code must be 20 digits, got {actual} characters"
                )
            }
            ImbError::RoutingNonDigit { position, found } => write!(
                f,
                "routing code character {position} is {found:?}, expected a digit 0-9"
            ),
            ImbError::RoutingLength { actual } => write!(
                f,
                "routing code must be 0, 5, 9 or 11 digits, got {actual} characters"
            ),
            ImbError::DigitsLength { actual } => write!(
                f,
                "IMb digits must be 20, 25, 29 or 31 digits (tracking code followed by routing \
                 code), got {actual} characters"
            ),
            ImbError::BarcodeIdSecondDigit { digit } => write!(
                f,
                "the second digit of the barcode ID must be 0-4, got {digit}"
            ),
            ImbError::FieldOutOfRange { field, value, max } => {
                write!(f, "{field} {value} is out of range (at most {max})")
            }
            ImbError::InvalidMailerId { mailer_id } => write!(
                f,
                "mailer ID {mailer_id} is neither 6 digits starting with 0-8 nor 9 digits \
                 starting with 9"
            ),
            ImbError::BarLength { actual } => {
                write!(f, "an IMb has 65 bars, got {actual} characters")
            }
            ImbError::InvalidBar { position, found } => {
                write!(f, "bar {position} is {found:?}, expected one of F, A, D, T")
            }
            ImbError::InvalidCharacter { character, bits } => write!(
                f,
                "not a valid IMb: the bars of character {character} read 0x{bits:04X}, which is \
                 not in the 5-of-13 or 2-of-13 table (a bar is probably misread or damaged)"
            ),
            ImbError::CodewordOutOfRange { codeword, value } => write!(
                f,
                "not a valid IMb: codeword {codeword} is {value}, which no encoder produces"
            ),
            ImbError::FrameCheckMismatch { expected, found } => write!(
                f,
                "frame check mismatch: the bars carry 0x{found:03X} but the data gives \
                 0x{expected:03X}"
            ),
            ImbError::UpsideDown => write!(
                f,
                "the barcode was read upside down (it decodes when reversed with ascenders and \
                 descenders swapped)"
            ),
            ImbError::ValueOutOfRange { value } => write!(
                f,
                "decoded value {value} is larger than any tracking and routing code can produce"
            ),
        }
    }
}

impl std::error::Error for ImbError {}

impl ImbData {
    /// The 20-digit tracking code: barcode ID (2 digits), service type ID (3), mailer ID (6 or
    /// 9) and serial number (9 or 6).
    ///
    /// Meaningful only for valid data (see [`ImbData::validate`]); out-of-range fields are
    /// printed in full and the result is then not 20 digits.
    #[must_use]
    pub fn tracking_code(&self) -> String {
        let mid_len = self.mailer_id_len();
        let serial_len = 15 - mid_len;
        format!(
            "{:02}{:03}{:0mid_len$}{:0serial_len$}",
            self.barcode_id, self.service_type_id, self.mailer_id, self.serial
        )
    }

    /// Number of digits of the mailer ID: 9 for IDs from 900 000 000 up (9 digits starting
    /// with 9), otherwise 6.
    #[must_use]
    pub fn mailer_id_len(&self) -> usize {
        if self.mailer_id >= NINE_DIGIT_MID_MIN {
            9
        } else {
            6
        }
    }

    /// Parses a 20-digit tracking code and a routing code of 0, 5, 9 or 11 digits.
    ///
    /// Checked in this order: tracking code length, tracking code digits, routing code length,
    /// routing code digits, second barcode-ID digit (0..=4). The mailer ID takes 9 digits when
    /// its first digit (the 6th of the tracking code) is 9, otherwise 6. No whitespace or
    /// separators are accepted.
    ///
    /// # Errors
    ///
    /// [`ImbError::TrackingLength`], [`ImbError::TrackingNonDigit`],
    /// [`ImbError::RoutingLength`], [`ImbError::RoutingNonDigit`] or
    /// [`ImbError::BarcodeIdSecondDigit`], for the first problem found.
    pub fn parse(tracking: &str, routing: &str) -> Result<ImbData, ImbError> {
        let actual = tracking.chars().count();
        if actual != 20 {
            return Err(ImbError::TrackingLength { actual });
        }
        if let Some((i, c)) = first_non_digit(tracking) {
            return Err(ImbError::TrackingNonDigit {
                position: i + 1,
                found: c,
            });
        }
        check_routing(routing)?;
        // All 20 characters are ASCII digits from here on.
        let d = tracking.as_bytes();
        let second = d[1] - b'0';
        if second > 4 {
            return Err(ImbError::BarcodeIdSecondDigit { digit: second });
        }
        let mid_len = if d[5] == b'9' { 9 } else { 6 };
        Ok(ImbData {
            barcode_id: digits_value(&d[0..2]) as u8,
            service_type_id: digits_value(&d[2..5]) as u16,
            mailer_id: digits_value(&d[5..5 + mid_len]) as u32,
            serial: digits_value(&d[5 + mid_len..20]) as u64,
            routing: routing.to_owned(),
        })
    }

    /// Parses 20, 25, 29 or 31 digits: the tracking code followed directly by the routing code
    /// (as in an IMb's human-readable line without separators).
    ///
    /// A non-digit is reported against the tracking code (positions 1..=20) or the routing code
    /// (positions counted from the start of the routing code).
    ///
    /// # Errors
    ///
    /// [`ImbError::DigitsLength`] for a wrong number of characters, otherwise as
    /// [`ImbData::parse`].
    pub fn parse_digits(digits: &str) -> Result<ImbData, ImbError> {
        let actual = digits.chars().count();
        if !matches!(actual, 20 | 25 | 29 | 31) {
            return Err(ImbError::DigitsLength { actual });
        }
        let split = digits
            .char_indices()
            .nth(20)
            .map_or(digits.len(), |(i, _)| i);
        ImbData::parse(&digits[..split], &digits[split..])
    }

    /// Checks every field: barcode ID (at most 94, second digit 0..=4), service type ID (at
    /// most 999), mailer ID (6 digits starting 0..=8 or 9 digits starting 9), serial number
    /// (fits the digits left by the mailer ID) and routing code (0, 5, 9 or 11 digits).
    ///
    /// # Errors
    ///
    /// [`ImbError::FieldOutOfRange`], [`ImbError::BarcodeIdSecondDigit`],
    /// [`ImbError::InvalidMailerId`], [`ImbError::RoutingLength`] or
    /// [`ImbError::RoutingNonDigit`], for the first problem found.
    pub fn validate(&self) -> Result<(), ImbError> {
        if self.barcode_id > 99 {
            return Err(ImbError::FieldOutOfRange {
                field: "barcode ID",
                value: u64::from(self.barcode_id),
                max: 94,
            });
        }
        if self.barcode_id % 10 > 4 {
            return Err(ImbError::BarcodeIdSecondDigit {
                digit: self.barcode_id % 10,
            });
        }
        if self.service_type_id > 999 {
            return Err(ImbError::FieldOutOfRange {
                field: "service type ID",
                value: u64::from(self.service_type_id),
                max: 999,
            });
        }
        let mid_ok = self.mailer_id <= SIX_DIGIT_MID_MAX
            || (NINE_DIGIT_MID_MIN..=NINE_DIGIT_MID_MAX).contains(&self.mailer_id);
        if !mid_ok {
            return Err(ImbError::InvalidMailerId {
                mailer_id: self.mailer_id,
            });
        }
        let serial_max = 10u64.pow((15 - self.mailer_id_len()) as u32) - 1;
        if self.serial > serial_max {
            return Err(ImbError::FieldOutOfRange {
                field: "serial number",
                value: self.serial,
                max: serial_max,
            });
        }
        check_routing(&self.routing)
    }
}

/// Encodes valid IMb data as 65 bars, each one of `F`, `A`, `D`, `T`.
///
/// # Panics
///
/// Panics if `data` is not valid (see [`ImbData::validate`]). Data from [`ImbData::parse`],
/// [`ImbData::parse_digits`] or [`decode`] is always valid; use [`try_encode`] or
/// [`encode_str`] for anything else.
#[must_use]
pub fn encode(data: &ImbData) -> String {
    match try_encode(data) {
        Ok(bars) => bars,
        Err(e) => panic!("cannot encode invalid IMb data: {e}"),
    }
}

/// Encodes IMb data as 65 bars after checking it with [`ImbData::validate`].
///
/// # Errors
///
/// The error of [`ImbData::validate`].
pub fn try_encode(data: &ImbData) -> Result<String, ImbError> {
    data.validate()?;
    let tracking = data.tracking_code();
    let value = binary_value(tracking.as_bytes(), data.routing.as_bytes());
    Ok(bars_to_string(&value_to_bars(value)))
}

/// Parses a tracking code and routing code (see [`ImbData::parse`]) and encodes them as 65
/// bars.
///
/// # Errors
///
/// The error of [`ImbData::parse`].
pub fn encode_str(tracking: &str, routing: &str) -> Result<String, ImbError> {
    ImbData::parse(tracking, routing).map(|data| encode(&data))
}

/// Decodes 65 bars (`F`, `A`, `D`, `T`, either case, surrounding whitespace ignored).
///
/// Every step of the encoding is inverted and the frame check verified. When the bars do not
/// decode but do when reversed with ascenders and descenders swapped, the error is
/// [`ImbError::UpsideDown`] rather than the error of the failed reading.
///
/// # Errors
///
/// [`ImbError::BarLength`] or [`ImbError::InvalidBar`] for malformed text; for bars that are
/// not a valid IMb, [`ImbError::InvalidCharacter`], [`ImbError::CodewordOutOfRange`],
/// [`ImbError::FrameCheckMismatch`] or [`ImbError::ValueOutOfRange`] (the first problem
/// found), or [`ImbError::UpsideDown`].
pub fn decode(bars: &str) -> Result<ImbData, ImbError> {
    let bars = parse_bars(bars)?;
    match decode_bars(&bars) {
        Ok(data) => Ok(data),
        Err(err) => {
            if decode_bars(&upside_down(&bars)).is_ok() {
                Err(ImbError::UpsideDown)
            } else {
                Err(err)
            }
        }
    }
}

mod codec;
use codec::*;

#[cfg(test)]
mod tests;
