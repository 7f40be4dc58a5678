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
use std::sync::OnceLock;

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

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

/// Bars as 2-bit values: bit 1 = ascender, bit 0 = descender (T = 0, D = 1, A = 2, F = 3).
type Bars = [u8; 65];

const ASCENDER: u8 = 0b10;
const DESCENDER: u8 = 0b01;

/// Largest 6-digit mailer ID (6-digit IDs start with 0..=8).
const SIX_DIGIT_MID_MAX: u32 = 899_999;
/// Smallest 9-digit mailer ID (9-digit IDs start with 9).
const NINE_DIGIT_MID_MIN: u32 = 900_000_000;
/// Largest 9-digit mailer ID.
const NINE_DIGIT_MID_MAX: u32 = 999_999_999;

/// Routing-code offsets by length: 5 digits → z + 1, 9 → z + 100 001, 11 → z + 1 000 100 001.
const ROUTING_OFFSET_5: u64 = 1;
const ROUTING_OFFSET_9: u64 = 100_001;
const ROUTING_OFFSET_11: u64 = 1_000_100_001;
/// Largest routing value (11 digits, all nines).
const ROUTING_MAX: u64 = ROUTING_OFFSET_11 + 99_999_999_999;
/// 10^18: the weight of the routing, barcode-ID part above the last 18 tracking digits.
const TEN_POW_18: u128 = 1_000_000_000_000_000_000;
/// Largest binary value: routing 99999999999, tracking 94999999999999999999.
const MAX_VALUE: u128 = ((ROUTING_MAX as u128 * 10 + 9) * 5 + 4) * TEN_POW_18 + (TEN_POW_18 - 1);

/// Number of 5-of-13 characters (codewords 0..=1286).
const TABLE_5_OF_13_LEN: usize = 1287;
/// Total number of characters, 5-of-13 then 2-of-13 (codewords 0..=1364).
const TABLE_LEN: usize = 1365;
/// Marks a 13-bit pattern that is not a character in the reverse lookup.
const NO_CODEWORD: u16 = u16::MAX;
/// All 13 bits of a character.
const ALL_13: u16 = 0x1FFF;

/// Bar-to-character table (USPS-B-3200 Table IV): for bars 1..=65, the character and bit
/// carried by the descender, then the character and bit carried by the ascender.
#[rustfmt::skip]
const BAR_TABLE: [(u8, u8, u8, u8); 65] = [
    (b'H', 2, b'E', 3), (b'B', 10, b'A', 0), (b'J', 12, b'C', 8), (b'F', 5, b'G', 11), (b'I', 9, b'D', 1),
    (b'A', 1, b'F', 12), (b'C', 5, b'B', 8), (b'E', 4, b'J', 11), (b'G', 3, b'I', 10), (b'D', 9, b'H', 6),
    (b'F', 11, b'B', 4), (b'I', 5, b'C', 12), (b'J', 10, b'A', 2), (b'H', 1, b'G', 7), (b'D', 6, b'E', 9),
    (b'A', 3, b'I', 6), (b'G', 4, b'C', 7), (b'B', 1, b'J', 9), (b'H', 10, b'F', 2), (b'E', 0, b'D', 8),
    (b'G', 2, b'A', 4), (b'I', 11, b'B', 0), (b'J', 8, b'D', 12), (b'C', 6, b'H', 7), (b'F', 1, b'E', 10),
    (b'B', 12, b'G', 9), (b'H', 3, b'I', 0), (b'F', 8, b'J', 7), (b'E', 6, b'C', 10), (b'D', 4, b'A', 5),
    (b'I', 4, b'F', 7), (b'H', 11, b'B', 9), (b'G', 0, b'J', 6), (b'A', 6, b'E', 8), (b'C', 1, b'D', 2),
    (b'F', 9, b'I', 12), (b'E', 11, b'G', 1), (b'J', 5, b'H', 4), (b'D', 3, b'B', 2), (b'A', 7, b'C', 0),
    (b'B', 3, b'E', 1), (b'G', 10, b'D', 5), (b'I', 7, b'J', 4), (b'C', 11, b'F', 6), (b'A', 8, b'H', 12),
    (b'E', 2, b'I', 1), (b'F', 10, b'D', 0), (b'J', 3, b'A', 9), (b'G', 5, b'C', 4), (b'H', 8, b'B', 7),
    (b'F', 0, b'E', 5), (b'C', 3, b'A', 10), (b'G', 12, b'J', 2), (b'D', 11, b'B', 6), (b'I', 8, b'H', 9),
    (b'F', 4, b'A', 11), (b'B', 5, b'C', 2), (b'J', 1, b'E', 12), (b'I', 3, b'G', 6), (b'H', 0, b'D', 7),
    (b'E', 7, b'H', 5), (b'A', 12, b'B', 11), (b'C', 9, b'J', 0), (b'G', 8, b'F', 3), (b'D', 10, b'I', 2),
];

/// The codeword ↔ character tables.
struct Tables {
    /// Character for each codeword: 0..=1286 from the 5-of-13 table, 1287..=1364 from the
    /// 2-of-13 table.
    character: [u16; TABLE_LEN],
    /// Codeword for each 13-bit pattern, or [`NO_CODEWORD`].
    codeword: [u16; 1 << 13],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut character = [0u16; TABLE_LEN];
        fill_n_of_13(5, &mut character[..TABLE_5_OF_13_LEN]);
        fill_n_of_13(2, &mut character[TABLE_5_OF_13_LEN..]);
        let mut codeword = [NO_CODEWORD; 1 << 13];
        for (cw, &c) in character.iter().enumerate() {
            codeword[usize::from(c)] = cw as u16;
        }
        Tables {
            character,
            codeword,
        }
    })
}

/// Builds an n-of-13 table as the specification does: going through the 13-bit values with n
/// bits set in increasing order, a value whose bit reversal is larger is stored with its
/// reversal at the next two places from the front; a value equal to its reversal (a
/// palindrome) is stored at the next free place from the back; a value whose reversal is
/// smaller was already stored with it.
fn fill_n_of_13(n: u32, out: &mut [u16]) {
    let (mut front, mut back) = (0usize, out.len());
    for value in 0u16..(1 << 13) {
        if value.count_ones() != n {
            continue;
        }
        let reversed = reverse_13(value);
        if reversed < value {
            continue;
        }
        if reversed == value {
            back -= 1;
            out[back] = value;
        } else {
            out[front] = value;
            out[front + 1] = reversed;
            front += 2;
        }
    }
    debug_assert_eq!(front, back, "n-of-13 table not filled exactly");
}

/// Reverses the order of the low 13 bits.
fn reverse_13(value: u16) -> u16 {
    value.reverse_bits() >> 3
}

/// CRC-11 frame check sequence (generator 0xF35, initial 0x7FF) over the 102 low bits of
/// `value`, most significant bit first.
fn crc11(value: u128) -> u16 {
    let mut fcs: u16 = 0x7FF;
    for i in (0..102).rev() {
        let bit = (value >> i) as u16 & 1;
        let top = (fcs >> 10) & 1;
        fcs = (fcs << 1) & 0x7FF;
        if top ^ bit == 1 {
            fcs ^= 0xF35 & 0x7FF;
        }
    }
    fcs
}

/// The first non-ASCII-digit character and its 0-based character index.
fn first_non_digit(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
}

fn check_routing(routing: &str) -> Result<(), ImbError> {
    let actual = routing.chars().count();
    if !matches!(actual, 0 | 5 | 9 | 11) {
        return Err(ImbError::RoutingLength { actual });
    }
    if let Some((i, c)) = first_non_digit(routing) {
        return Err(ImbError::RoutingNonDigit {
            position: i + 1,
            found: c,
        });
    }
    Ok(())
}

/// Value of a run of ASCII digits.
fn digits_value(digits: &[u8]) -> u128 {
    digits
        .iter()
        .fold(0u128, |acc, &d| acc * 10 + u128::from(d - b'0'))
}

/// Step 1: the 102-bit binary value of a valid tracking code (20 ASCII digits) and routing code
/// (0, 5, 9 or 11 ASCII digits).
fn binary_value(tracking: &[u8], routing: &[u8]) -> u128 {
    let z = digits_value(routing);
    let mut value = match routing.len() {
        0 => 0,
        5 => z + u128::from(ROUTING_OFFSET_5),
        9 => z + u128::from(ROUTING_OFFSET_9),
        _ => z + u128::from(ROUTING_OFFSET_11),
    };
    value = value * 10 + u128::from(tracking[0] - b'0');
    value = value * 5 + u128::from(tracking[1] - b'0');
    value * TEN_POW_18 + digits_value(&tracking[2..20])
}

/// Steps 2 to 6 for a binary value below 659 × 1365^8 × 636.
fn value_to_bars(value: u128) -> Bars {
    let fcs = crc11(value);
    let mut cw = [0u16; 10];
    let mut rest = value;
    cw[9] = (rest % 636) as u16;
    rest /= 636;
    for c in cw[1..9].iter_mut().rev() {
        *c = (rest % 1365) as u16;
        rest /= 1365;
    }
    debug_assert!(rest <= 658, "binary value too large for an IMb");
    cw[0] = rest as u16;
    cw[9] *= 2;
    if fcs & 0x400 != 0 {
        cw[0] += 659;
    }
    codewords_to_bars(&cw, fcs)
}

/// Steps 5 and 6: codewords (already carrying the orientation and FCS bit 10) to characters,
/// inverted by frame-check bits 0..=9, to bars.
fn codewords_to_bars(cw: &[u16; 10], fcs: u16) -> Bars {
    let t = tables();
    let mut chars = [0u16; 10];
    for (i, (ch, &c)) in chars.iter_mut().zip(cw.iter()).enumerate() {
        *ch = t.character[usize::from(c)];
        if (fcs >> i) & 1 == 1 {
            *ch ^= ALL_13;
        }
    }
    chars_to_bars(&chars)
}

fn chars_to_bars(chars: &[u16; 10]) -> Bars {
    let mut bars = [0u8; 65];
    for (bar, &(dc, db, ac, ab)) in bars.iter_mut().zip(BAR_TABLE.iter()) {
        let descender = (chars[usize::from(dc - b'A')] >> db) & 1 == 1;
        let ascender = (chars[usize::from(ac - b'A')] >> ab) & 1 == 1;
        *bar = if ascender { ASCENDER } else { 0 } | if descender { DESCENDER } else { 0 };
    }
    bars
}

fn bars_to_chars(bars: &Bars) -> [u16; 10] {
    let mut chars = [0u16; 10];
    for (&bar, &(dc, db, ac, ab)) in bars.iter().zip(BAR_TABLE.iter()) {
        if bar & DESCENDER != 0 {
            chars[usize::from(dc - b'A')] |= 1 << db;
        }
        if bar & ASCENDER != 0 {
            chars[usize::from(ac - b'A')] |= 1 << ab;
        }
    }
    chars
}

fn bars_to_string(bars: &Bars) -> String {
    bars.iter()
        .map(|&b| match b {
            0 => 'T',
            DESCENDER => 'D',
            ASCENDER => 'A',
            _ => 'F',
        })
        .collect()
}

fn parse_bars(text: &str) -> Result<Bars, ImbError> {
    let text = text.trim();
    let actual = text.chars().count();
    if actual != 65 {
        return Err(ImbError::BarLength { actual });
    }
    let mut bars = [0u8; 65];
    for ((i, c), bar) in text.chars().enumerate().zip(bars.iter_mut()) {
        *bar = match c.to_ascii_uppercase() {
            'T' => 0,
            'D' => DESCENDER,
            'A' => ASCENDER,
            'F' => ASCENDER | DESCENDER,
            _ => {
                return Err(ImbError::InvalidBar {
                    position: i + 1,
                    found: c,
                })
            }
        };
    }
    Ok(bars)
}

/// The bars as seen with the barcode turned 180 degrees: reversed, ascenders and descenders
/// swapped.
fn upside_down(bars: &Bars) -> Bars {
    let mut out = [0u8; 65];
    for (o, &b) in out.iter_mut().zip(bars.iter().rev()) {
        *o = ((b & ASCENDER) >> 1) | ((b & DESCENDER) << 1);
    }
    out
}

/// Decodes bars in the given orientation only.
fn decode_bars(bars: &Bars) -> Result<ImbData, ImbError> {
    let t = tables();
    let chars = bars_to_chars(bars);
    let mut fcs = 0u16;
    let mut cw = [0u16; 10];
    for (i, (&c, word)) in chars.iter().zip(cw.iter_mut()).enumerate() {
        let invalid = ImbError::InvalidCharacter {
            character: char::from(b'A' + i as u8),
            bits: c,
        };
        // 5-of-13 and 2-of-13 characters as they are; 8 and 11 bits set means inverted.
        let plain = match c.count_ones() {
            2 | 5 => c,
            8 | 11 => {
                fcs |= 1 << i;
                c ^ ALL_13
            }
            _ => return Err(invalid),
        };
        *word = match t.codeword[usize::from(plain)] {
            NO_CODEWORD => return Err(invalid),
            w => w,
        };
    }
    if cw[0] > 658 + 659 {
        return Err(ImbError::CodewordOutOfRange {
            codeword: 'A',
            value: cw[0],
        });
    }
    if cw[0] >= 659 {
        fcs |= 0x400;
        cw[0] -= 659;
    }
    if cw[9] % 2 != 0 || cw[9] / 2 >= 636 {
        return Err(ImbError::CodewordOutOfRange {
            codeword: 'J',
            value: cw[9],
        });
    }
    cw[9] /= 2;
    let mut value = u128::from(cw[0]);
    for &c in &cw[1..9] {
        value = value * 1365 + u128::from(c);
    }
    value = value * 636 + u128::from(cw[9]);
    let expected = crc11(value);
    if expected != fcs {
        return Err(ImbError::FrameCheckMismatch {
            expected,
            found: fcs,
        });
    }
    value_to_data(value)
}

/// Inverse of step 1.
fn value_to_data(value: u128) -> Result<ImbData, ImbError> {
    if value > MAX_VALUE {
        return Err(ImbError::ValueOutOfRange { value });
    }
    let mut tracking = [0u8; 20];
    let mut low = (value % TEN_POW_18) as u64;
    for d in tracking[2..].iter_mut().rev() {
        *d = (low % 10) as u8;
        low /= 10;
    }
    let mut high = (value / TEN_POW_18) as u64;
    tracking[1] = (high % 5) as u8;
    high /= 5;
    tracking[0] = (high % 10) as u8;
    let r = high / 10;
    let routing = match r {
        0 => String::new(),
        1..=100_000 => format!("{:05}", r - ROUTING_OFFSET_5),
        100_001..=1_000_100_000 => format!("{:09}", r - ROUTING_OFFSET_9),
        _ => format!("{:011}", r - ROUTING_OFFSET_11),
    };
    let num = |range: std::ops::Range<usize>| {
        tracking[range]
            .iter()
            .fold(0u64, |acc, &d| acc * 10 + u64::from(d))
    };
    let mid_len = if tracking[5] == 9 { 9 } else { 6 };
    Ok(ImbData {
        barcode_id: num(0..2) as u8,
        service_type_id: num(2..5) as u16,
        mailer_id: num(5..5 + mid_len) as u32,
        serial: num(5 + mid_len..20),
        routing,
    })
}

#[cfg(test)]
mod tests;
