//! California's county numbers, 01–58 in alphabetical order, as VoteCal uses them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

const NAMES: [&str; 58] = [
    "Alameda", "Alpine", "Amador", "Butte", "Calaveras", "Colusa", "Contra Costa", "Del Norte",
    "El Dorado", "Fresno", "Glenn", "Humboldt", "Imperial", "Inyo", "Kern", "Kings", "Lake",
    "Lassen", "Los Angeles", "Madera", "Marin", "Mariposa", "Mendocino", "Merced", "Modoc", "Mono",
    "Monterey", "Napa", "Nevada", "Orange", "Placer", "Plumas", "Riverside", "Sacramento",
    "San Benito", "San Bernardino", "San Diego", "San Francisco", "San Joaquin", "San Luis Obispo",
    "San Mateo", "Santa Barbara", "Santa Clara", "Santa Cruz", "Shasta", "Sierra", "Siskiyou",
    "Solano", "Sonoma", "Stanislaus", "Sutter", "Tehama", "Trinity", "Tulare", "Tuolumne",
    "Ventura", "Yolo", "Yuba",
];

/// A California county, by its two-digit number (01 Alameda … 58 Yuba).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountyCode(u8);

impl CountyCode {
    /// Every county, 01 to 58.
    pub fn all() -> impl Iterator<Item = CountyCode> {
        (1..=58).map(CountyCode)
    }

    pub fn new(number: u8) -> Option<Self> {
        (1..=58).contains(&number).then_some(CountyCode(number))
    }

    /// Parses exactly two ASCII digits, "01" to "58".
    pub fn parse(text: &str) -> Option<Self> {
        Self::parse_bytes(text.as_bytes())
    }

    pub fn parse_bytes(b: &[u8]) -> Option<Self> {
        match b {
            [a @ b'0'..=b'9', c @ b'0'..=b'9'] => Self::new((a - b'0') * 10 + (c - b'0')),
            _ => None,
        }
    }

    /// A county number as a county's file may give it: "01" to "58", or "1" to "9" (a
    /// spreadsheet drops the leading zero of a number).
    pub fn parse_in_file(b: &[u8]) -> Option<Self> {
        match b {
            [d @ b'1'..=b'9'] => Self::new(d - b'0'),
            _ => Self::parse_bytes(b),
        }
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn name(self) -> &'static str {
        NAMES[(self.0 - 1) as usize]
    }

    /// "01".."58".
    pub fn code(self) -> String {
        format!("{:02}", self.0)
    }
}

impl fmt::Display for CountyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl Serialize for CountyCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for CountyCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        CountyCode::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("'{text}' is not a county number 01-58")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_numbers_follow_the_alphabetical_list() {
        assert_eq!(CountyCode::parse("01").unwrap().name(), "Alameda");
        assert_eq!(CountyCode::parse("19").unwrap().name(), "Los Angeles");
        assert_eq!(CountyCode::parse("58").unwrap().name(), "Yuba");
        assert_eq!(CountyCode::all().count(), 58);
    }

    #[test]
    fn numbers_outside_01_to_58_are_not_counties() {
        for bad in ["00", "59", "99", "1", "001", "a1", ""] {
            assert!(CountyCode::parse(bad).is_none(), "{bad}");
        }
    }
}
