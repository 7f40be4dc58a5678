//! The codec's internals: the bars' bit table, the character tables, the CRC and the conversions
//! between the value, its codewords and the bars (the steps listed in [`super`]).

use super::{ImbData, ImbError};
use std::sync::OnceLock;

/// Bars as 2-bit values: bit 1 = ascender, bit 0 = descender (T = 0, D = 1, A = 2, F = 3).
pub(super) type Bars = [u8; 65];

pub(super) const ASCENDER: u8 = 0b10;
pub(super) const DESCENDER: u8 = 0b01;

/// Largest 6-digit mailer ID (6-digit IDs start with 0..=8).
pub(super) const SIX_DIGIT_MID_MAX: u32 = 899_999;
/// Smallest 9-digit mailer ID (9-digit IDs start with 9).
pub(super) const NINE_DIGIT_MID_MIN: u32 = 900_000_000;
/// Largest 9-digit mailer ID.
pub(super) const NINE_DIGIT_MID_MAX: u32 = 999_999_999;

/// Routing-code offsets by length: 5 digits → z + 1, 9 → z + 100 001, 11 → z + 1 000 100 001.
pub(super) const ROUTING_OFFSET_5: u64 = 1;
pub(super) const ROUTING_OFFSET_9: u64 = 100_001;
pub(super) const ROUTING_OFFSET_11: u64 = 1_000_100_001;
/// Largest routing value (11 digits, all nines).
pub(super) const ROUTING_MAX: u64 = ROUTING_OFFSET_11 + 99_999_999_999;
/// 10^18: the weight of the routing, barcode-ID part above the last 18 tracking digits.
pub(super) const TEN_POW_18: u128 = 1_000_000_000_000_000_000;
/// Largest binary value: routing 99999999999, tracking 94999999999999999999.
pub(super) const MAX_VALUE: u128 = ((ROUTING_MAX as u128 * 10 + 9) * 5 + 4) * TEN_POW_18 + (TEN_POW_18 - 1);

/// Number of 5-of-13 characters (codewords 0..=1286).
pub(super) const TABLE_5_OF_13_LEN: usize = 1287;
/// Total number of characters, 5-of-13 then 2-of-13 (codewords 0..=1364).
pub(super) const TABLE_LEN: usize = 1365;
/// Marks a 13-bit pattern that is not a character in the reverse lookup.
pub(super) const NO_CODEWORD: u16 = u16::MAX;
/// All 13 bits of a character.
pub(super) const ALL_13: u16 = 0x1FFF;

/// Bar-to-character table (USPS-B-3200 Table IV): for bars 1..=65, the character and bit
/// carried by the descender, then the character and bit carried by the ascender.
#[rustfmt::skip]
pub(super) const BAR_TABLE: [(u8, u8, u8, u8); 65] = [
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
pub(super) struct Tables {
    /// Character for each codeword: 0..=1286 from the 5-of-13 table, 1287..=1364 from the
    /// 2-of-13 table.
    pub(super) character: [u16; TABLE_LEN],
    /// Codeword for each 13-bit pattern, or [`NO_CODEWORD`].
    pub(super) codeword: [u16; 1 << 13],
}

pub(super) fn tables() -> &'static Tables {
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
pub(super) fn fill_n_of_13(n: u32, out: &mut [u16]) {
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
pub(super) fn reverse_13(value: u16) -> u16 {
    value.reverse_bits() >> 3
}

/// CRC-11 frame check sequence (generator 0xF35, initial 0x7FF) over the 102 low bits of
/// `value`, most significant bit first.
pub(super) fn crc11(value: u128) -> u16 {
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
pub(super) fn first_non_digit(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
}

pub(super) fn check_routing(routing: &str) -> Result<(), ImbError> {
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
pub(super) fn digits_value(digits: &[u8]) -> u128 {
    digits
        .iter()
        .fold(0u128, |acc, &d| acc * 10 + u128::from(d - b'0'))
}

/// Step 1: the 102-bit binary value of a valid tracking code (20 ASCII digits) and routing code
/// (0, 5, 9 or 11 ASCII digits).
pub(super) fn binary_value(tracking: &[u8], routing: &[u8]) -> u128 {
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
pub(super) fn value_to_bars(value: u128) -> Bars {
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
pub(super) fn codewords_to_bars(cw: &[u16; 10], fcs: u16) -> Bars {
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

pub(super) fn chars_to_bars(chars: &[u16; 10]) -> Bars {
    let mut bars = [0u8; 65];
    for (bar, &(dc, db, ac, ab)) in bars.iter_mut().zip(BAR_TABLE.iter()) {
        let descender = (chars[usize::from(dc - b'A')] >> db) & 1 == 1;
        let ascender = (chars[usize::from(ac - b'A')] >> ab) & 1 == 1;
        *bar = if ascender { ASCENDER } else { 0 } | if descender { DESCENDER } else { 0 };
    }
    bars
}

pub(super) fn bars_to_chars(bars: &Bars) -> [u16; 10] {
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

pub(super) fn bars_to_string(bars: &Bars) -> String {
    bars.iter()
        .map(|&b| match b {
            0 => 'T',
            DESCENDER => 'D',
            ASCENDER => 'A',
            _ => 'F',
        })
        .collect()
}

pub(super) fn parse_bars(text: &str) -> Result<Bars, ImbError> {
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
pub(super) fn upside_down(bars: &Bars) -> Bars {
    let mut out = [0u8; 65];
    for (o, &b) in out.iter_mut().zip(bars.iter().rev()) {
        *o = ((b & ASCENDER) >> 1) | ((b & DESCENDER) << 1);
    }
    out
}

/// Decodes bars in the given orientation only.
pub(super) fn decode_bars(bars: &Bars) -> Result<ImbData, ImbError> {
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
pub(super) fn value_to_data(value: u128) -> Result<ImbData, ImbError> {
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
