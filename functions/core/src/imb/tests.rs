//! The IMb codec against the specification's appendix B and cases of USPS's encoder test set:
//! its tables, both directions, round trips of generated data, and every way bars or fields can
//! be wrong.

use super::*;

/// USPS-B-3200 appendix B: tracking code, routing code, bars.
const APPENDIX_B: [(&str, &str, &str); 4] = [
    (
        "01234567094987654321",
        "",
        "ATTFATTDTTADTAATTDTDTATTDAFDDFADFDFTFFFFFTATFAAAATDFFTDAADFTFDTDT",
    ),
    (
        "01234567094987654321",
        "01234",
        "DTTAFADDTTFTDTFTFDTDDADADAFADFATDDFTAAAFDTTADFAAATDFDTDFADDDTDFFT",
    ),
    (
        "01234567094987654321",
        "012345678",
        "ADFTTAFDTTTTFATTADTAAATFTFTATDAAAFDDADATATDTDTTDFDTDATADADTDFFTFA",
    ),
    (
        "01234567094987654321",
        "01234567891",
        "AADTFFDFTDADTAADAATFDTDDAAADDTDTTDAFADADDDTFFFDDTTTADFAAADFTDAADA",
    ),
];

/// A selection of successful cases from the USPS encoder test set
/// (uspsIMbEncoderTestCases.csv; case numbers in comments).
#[rustfmt::skip]
const USPS_CASES: [(&str, &str, &str); 15] = [
    // 1
    ("53379777234994544928", "51135759461", "DAFDTDAFFDFTDADTDDFTTFDTATATFFFDFTTFFFTFDDTDAAFATDFTFDFDTTTDTTFDA"),
    // 4
    ("82205455868913559972", "54765515722", "TTTADTFFADAFDTTFDTAADATFFFADFFTDDFFFATDADAATAAADDATFTAADFADTADADD"),
    // 10
    ("40120111574675115924", "621766091", "ADFFTATTAFTTFTAADTFFATDTDFDDDTTAAFDTDDDFAAFATAFDFDTDTATDDATTADADA"),
    // 12
    ("40120111574675115924", "", "FAAADFDDADFFDAFDFFTFDFFFFTADFADTTTATTTADDDAFTATADDTADDDATATFFTFDD"),
    // 24
    ("40120111574675115924", "62176", "AFDDADATAFDTDTTFAATDDTDFTDDDAFTFFTDTTATFAADFTFTFFADAAFAADFFDAADDT"),
    // 53
    ("90456778976541564155", "859859409", "FDFTADFFFDTFDDDADTFDDFFDADDTTFAFAFAFAATTFAFTDTTDDAAADDFDDDATFTDFA"),
    // 83 (routing code with leading zero)
    ("23734897394738748374", "01020", "FFTFAFAADATDDTDFDTFTTTDDTDDADFDAATDATDDFATFTTAAFTFFFTFDFFTFADATDD"),
    // 98 (barcode ID 00)
    ("00637814673218466327", "28913729838", "AFTTADTADTDDDATDFDAFDAFADDTDDDTATADAATAFFADAATFDTTDDDDAFDTFFATFDA"),
    // 128
    ("12345678901234567890", "01987654321", "DDFTTTFAFDDTDFDTFDTDTAFDTTFTDDFAAFDADTDTDFADDAAAFAFFFADDTTFFADAFA"),
    // 131 (largest possible value)
    ("94999999999999999999", "99999999999", "TDFAADDFAFDFFTADFATDAADDFDFTAFATFAFTTATDTFDDFAAFTTFADAAFTFTADFTTD"),
    // 132
    ("00000000000000000001", "99999999999", "FDFFFFDFTDDAAADFFATDTFFFDDTAAFFDTTFDTTTDAAADAFFFTTATFATATATTFFTFT"),
    // 133
    ("44444444444444444444", "00000000000", "DFDFDDTAATDTTTDFADDAFDDFTADAFADFFTATFTATTDAFTTDTADTDDDATFDTAATFFT"),
    // 49 (no routing code)
    ("94561236589741252214", "", "DATAAFTTTTATDTDFDDFTDATAFAATDFATDTDFAAFFFDAAAAAFADAFTTTFADTDFTAFA"),
    // 105
    ("83748390478397483938", "02156", "DDTFTAFTFFDTFTFTTTTDFDTDDFATDTAADFTDDDDATDTTFFDDTAADDFDTFFTFAFAFT"),
    // 66 (9-digit mailer ID, no routing code)
    ("91758934579438758348", "", "TFAFFFFDADTFDDAFATATTDDDADFDAFAATTADATDDAFADTFFFDFTATATADDDFAADFT"),
];

fn all_vectors() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    APPENDIX_B.iter().chain(USPS_CASES.iter()).copied()
}

/// xorshift64* pseudo-random numbers, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn digits(&mut self, n: usize) -> String {
        match self.below(8) {
            0 => "0".repeat(n),
            1 => "9".repeat(n),
            _ => (0..n)
                .map(|_| char::from(b'0' + self.below(10) as u8))
                .collect(),
        }
    }
}

fn random_data(rng: &mut Rng) -> ImbData {
    let barcode_id = (rng.below(10) * 10 + rng.below(5)) as u8;
    let service_type_id = rng.below(1000) as u16;
    let (mailer_id, serial) = if rng.below(2) == 0 {
        (rng.below(900_000) as u32, rng.below(1_000_000_000))
    } else {
        (
            NINE_DIGIT_MID_MIN + rng.below(100_000_000) as u32,
            rng.below(1_000_000),
        )
    };
    let routing_len = [0, 5, 9, 11][rng.below(4) as usize];
    ImbData {
        barcode_id,
        service_type_id,
        mailer_id,
        serial,
        routing: rng.digits(routing_len),
    }
}

fn flipped(bars: &str) -> String {
    bars.chars()
        .rev()
        .map(|c| match c {
            'A' => 'D',
            'D' => 'A',
            other => other,
        })
        .collect()
}

#[test]
fn tables_match_the_specification() {
    let t = tables();
    assert_eq!(&t.character[..4], &[0x001F, 0x1F00, 0x002F, 0x1E80]);
    assert_eq!(t.character[TABLE_5_OF_13_LEN - 1], 0x01F0);
    assert_eq!(
        &t.character[TABLE_5_OF_13_LEN..TABLE_5_OF_13_LEN + 4],
        &[0x0003, 0x1800, 0x0005, 0x1400]
    );
    assert_eq!(t.character[TABLE_LEN - 1], 0x00A0);
    for (cw, &c) in t.character.iter().enumerate() {
        let n = if cw < TABLE_5_OF_13_LEN { 5 } else { 2 };
        assert_eq!(c.count_ones(), n, "codeword {cw}");
        assert!(c < 1 << 13);
        assert_eq!(
            usize::from(t.codeword[usize::from(c)]),
            cw,
            "reverse lookup"
        );
    }
    let in_table = t.codeword.iter().filter(|&&w| w != NO_CODEWORD).count();
    assert_eq!(in_table, TABLE_LEN, "all characters distinct");
}

#[test]
fn bar_table_uses_every_character_bit_once() {
    let mut seen = [[false; 13]; 10];
    for &(dc, db, ac, ab) in BAR_TABLE.iter() {
        // A bar's two bits always belong to different characters.
        assert_ne!(dc, ac);
        for (c, b) in [(dc, db), (ac, ab)] {
            let slot = &mut seen[usize::from(c - b'A')][usize::from(b)];
            assert!(!*slot, "{} bit {b} used twice", char::from(c));
            *slot = true;
        }
    }
    assert!(seen.iter().flatten().all(|&s| s));
}

#[test]
fn crc_of_appendix_b_value() {
    // Appendix B: binary value 0x016907B2A24ABC16A2E5C004B1 gives FCS 0x751.
    assert_eq!(crc11(0x016907B2A24ABC16A2E5C004B1), 0x751);
    assert_eq!(
        binary_value(b"01234567094987654321", b"01234567891"),
        0x016907B2A24ABC16A2E5C004B1
    );
}

#[test]
fn encodes_the_vectors() {
    for (tracking, routing, bars) in all_vectors() {
        assert_eq!(
            encode_str(tracking, routing).as_deref(),
            Ok(bars),
            "{tracking}-{routing}"
        );
    }
}

#[test]
fn decodes_the_vectors() {
    for (tracking, routing, bars) in all_vectors() {
        let data = decode(bars).unwrap_or_else(|e| panic!("{tracking}-{routing}: {e}"));
        assert_eq!(data.tracking_code(), tracking);
        assert_eq!(data.routing, routing);
        assert_eq!(Ok(data.clone()), ImbData::parse(tracking, routing));
        assert_eq!(encode(&data), bars);
    }
}

#[test]
fn decodes_the_appendix_b_fields() {
    let data = decode(APPENDIX_B[3].2).unwrap();
    assert_eq!(
        data,
        ImbData {
            barcode_id: 1,
            service_type_id: 234,
            mailer_id: 567_094,
            serial: 987_654_321,
            routing: "01234567891".to_owned(),
        }
    );
    assert_eq!(data.mailer_id_len(), 6);
    let nine = decode(USPS_CASES[14].2).unwrap();
    assert_eq!(nine.barcode_id, 91);
    assert_eq!(nine.service_type_id, 758);
    assert_eq!(nine.mailer_id, 934_579_438);
    assert_eq!(nine.serial, 758_348);
    assert_eq!(nine.mailer_id_len(), 9);
    assert_eq!(nine.tracking_code(), "91758934579438758348");
    let six = decode(USPS_CASES[5].2).unwrap();
    assert_eq!(six.mailer_id, 778_976);
    assert_eq!(six.serial, 541_564_155);
}

#[test]
fn decode_accepts_lowercase_and_surrounding_whitespace() {
    for (tracking, routing, bars) in all_vectors() {
        let messy = format!(" \t{}\r\n", bars.to_ascii_lowercase());
        let data = decode(&messy).unwrap();
        assert_eq!(data.tracking_code(), tracking);
        assert_eq!(data.routing, routing);
    }
}

#[test]
fn round_trips_generated_data() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut routing_lengths = [0usize; 12];
    let mut nine_digit_mids = 0;
    for _ in 0..5000 {
        let data = random_data(&mut rng);
        routing_lengths[data.routing.len()] += 1;
        if data.mailer_id_len() == 9 {
            nine_digit_mids += 1;
        }
        assert_eq!(data.validate(), Ok(()));
        let tracking = data.tracking_code();
        assert_eq!(tracking.len(), 20);
        assert_eq!(ImbData::parse(&tracking, &data.routing).as_ref(), Ok(&data));
        let digits = format!("{tracking}{}", data.routing);
        assert_eq!(ImbData::parse_digits(&digits).as_ref(), Ok(&data));

        let bars = encode(&data);
        assert_eq!(bars.len(), 65);
        assert!(bars.chars().all(|c| "FADT".contains(c)));
        assert_eq!(decode(&bars).as_ref(), Ok(&data), "{digits}: {bars}");
        assert_eq!(decode(&flipped(&bars)), Err(ImbError::UpsideDown), "{bars}");
    }
    for len in [0, 5, 9, 11] {
        assert!(
            routing_lengths[len] > 1000,
            "routing length {len} under-tested"
        );
    }
    assert!(nine_digit_mids > 2000 && nine_digit_mids < 3000);
}

#[test]
fn round_trips_routing_boundaries() {
    for routing in [
        "",
        "00000",
        "99999",
        "000000000",
        "999999999",
        "00000000000",
        "99999999999",
    ] {
        for tracking in [
            "00000000000000000000",
            "94999999999999999999",
            "00000900000000000000",
        ] {
            let bars = encode_str(tracking, routing).unwrap();
            let data = decode(&bars).unwrap();
            assert_eq!(data.tracking_code(), tracking);
            assert_eq!(data.routing, routing);
        }
    }
}

#[test]
fn single_bar_corruption_never_yields_the_original() {
    let mut cases = 0;
    for (tracking, routing, bars) in all_vectors() {
        let original = ImbData::parse(tracking, routing).unwrap();
        let bars: Vec<char> = bars.chars().collect();
        for i in 0..bars.len() {
            for c in ['F', 'A', 'D', 'T'] {
                if c == bars[i] {
                    continue;
                }
                let mut damaged = bars.clone();
                damaged[i] = c;
                let damaged: String = damaged.into_iter().collect();
                let result = decode(&damaged);
                assert_ne!(result.as_ref(), Ok(&original), "bar {} -> {c}", i + 1);
                // Stronger, and guaranteed by the code: every bar's two bits belong to two
                // different characters, and one flipped bit takes a character out of the
                // tables, so the damage is always caught at the character level.
                assert!(
                    matches!(result, Err(ImbError::InvalidCharacter { .. })),
                    "bar {} -> {c}: {result:?}",
                    i + 1
                );
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 19 * 65 * 3);
}

#[test]
fn upside_down_is_reported() {
    for (_, _, bars) in all_vectors() {
        assert_eq!(decode(&flipped(bars)), Err(ImbError::UpsideDown));
        assert_eq!(
            decode(&flipped(bars).to_ascii_lowercase()),
            Err(ImbError::UpsideDown)
        );
    }
}

#[test]
fn parse_errors() {
    // USPS test set cases 7, 8, 9, 6, 35, 29, 48.
    assert_eq!(
        ImbData::parse("4012X111574675115924", "62176609110"),
        Err(ImbError::TrackingNonDigit {
            position: 5,
            found: 'X'
        })
    );
    assert_eq!(
        ImbData::parse("82205455868913972", "54765515722"),
        Err(ImbError::TrackingLength { actual: 17 })
    );
    assert_eq!(
        ImbData::parse("40120111574675115924", "6217660911"),
        Err(ImbError::RoutingLength { actual: 10 })
    );
    assert_eq!(
        ImbData::parse("53055494689272602879", "137655B3689"),
        Err(ImbError::RoutingNonDigit {
            position: 7,
            found: 'B'
        })
    );
    assert_eq!(
        ImbData::parse("58412598741256321456", "45879654123"),
        Err(ImbError::BarcodeIdSecondDigit { digit: 8 })
    );
    assert_eq!(
        ImbData::parse("4P789452145632145221", "15641"),
        Err(ImbError::TrackingNonDigit {
            position: 2,
            found: 'P'
        })
    );
    assert_eq!(
        ImbData::parse("4258963*45&123654785", ""),
        Err(ImbError::TrackingNonDigit {
            position: 8,
            found: '*'
        })
    );
    assert_eq!(
        ImbData::parse("", ""),
        Err(ImbError::TrackingLength { actual: 0 })
    );
    // Lengths count characters, not bytes.
    assert_eq!(
        ImbData::parse("0123456709498765432é", ""),
        Err(ImbError::TrackingNonDigit {
            position: 20,
            found: 'é'
        })
    );
    assert_eq!(
        ImbData::parse("01234567094987654321", "0123é"),
        Err(ImbError::RoutingNonDigit {
            position: 5,
            found: 'é'
        })
    );
    assert_eq!(
        encode_str("01234567094987654321", "1234"),
        Err(ImbError::RoutingLength { actual: 4 })
    );
}

#[test]
fn parse_digits_lengths_and_errors() {
    for (tracking, routing, _) in APPENDIX_B {
        let data = ImbData::parse_digits(&format!("{tracking}{routing}")).unwrap();
        assert_eq!(data.tracking_code(), tracking);
        assert_eq!(data.routing, routing);
    }
    for n in [0, 19, 21, 24, 26, 30, 32] {
        assert_eq!(
            ImbData::parse_digits(&"1".repeat(n)),
            Err(ImbError::DigitsLength { actual: n })
        );
    }
    assert_eq!(
        ImbData::parse_digits("0123456709498765432101x34"),
        Err(ImbError::RoutingNonDigit {
            position: 3,
            found: 'x'
        })
    );
    assert_eq!(
        ImbData::parse_digits("01234567-9498765432101234"),
        Err(ImbError::TrackingNonDigit {
            position: 9,
            found: '-'
        })
    );
    assert_eq!(
        ImbData::parse_digits("0123456709498765432é01234"),
        Err(ImbError::TrackingNonDigit {
            position: 20,
            found: 'é'
        })
    );
}

#[test]
fn validate_errors() {
    let good = ImbData::parse("01234567094987654321", "01234").unwrap();
    let with = |f: &dyn Fn(&mut ImbData)| {
        let mut d = good.clone();
        f(&mut d);
        d.validate()
    };
    assert_eq!(with(&|_| ()), Ok(()));
    assert_eq!(
        with(&|d| d.barcode_id = 95),
        Err(ImbError::BarcodeIdSecondDigit { digit: 5 })
    );
    assert_eq!(
        with(&|d| d.barcode_id = 100),
        Err(ImbError::FieldOutOfRange {
            field: "barcode ID",
            value: 100,
            max: 94
        })
    );
    assert_eq!(
        with(&|d| d.service_type_id = 1000),
        Err(ImbError::FieldOutOfRange {
            field: "service type ID",
            value: 1000,
            max: 999
        })
    );
    assert_eq!(
        with(&|d| d.mailer_id = 950_000),
        Err(ImbError::InvalidMailerId { mailer_id: 950_000 })
    );
    assert_eq!(
        with(&|d| d.mailer_id = 12_345_678),
        Err(ImbError::InvalidMailerId {
            mailer_id: 12_345_678
        })
    );
    assert_eq!(
        with(&|d| d.serial = 1_000_000_000),
        Err(ImbError::FieldOutOfRange {
            field: "serial number",
            value: 1_000_000_000,
            max: 999_999_999
        })
    );
    assert_eq!(
        with(&|d| {
            d.mailer_id = 912_345_678;
            d.serial = 1_000_000;
        }),
        Err(ImbError::FieldOutOfRange {
            field: "serial number",
            value: 1_000_000,
            max: 999_999
        })
    );
    assert_eq!(
        with(&|d| d.routing = "1234".into()),
        Err(ImbError::RoutingLength { actual: 4 })
    );
    assert_eq!(
        with(&|d| d.routing = "12a45".into()),
        Err(ImbError::RoutingNonDigit {
            position: 3,
            found: 'a'
        })
    );
    let mut bad = good.clone();
    bad.service_type_id = 1000;
    assert_eq!(
        try_encode(&bad),
        Err(ImbError::FieldOutOfRange {
            field: "service type ID",
            value: 1000,
            max: 999
        })
    );
    assert_eq!(try_encode(&good).unwrap(), APPENDIX_B[1].2);
}

#[test]
#[should_panic(expected = "cannot encode invalid IMb data")]
fn encode_panics_on_invalid_data() {
    let mut data = ImbData::parse("01234567094987654321", "").unwrap();
    data.mailer_id = 950_000;
    let _ = encode(&data);
}

#[test]
fn bar_errors() {
    let bars = APPENDIX_B[0].2;
    assert_eq!(decode(&bars[1..]), Err(ImbError::BarLength { actual: 64 }));
    assert_eq!(
        decode(&format!("{bars}T")),
        Err(ImbError::BarLength { actual: 66 })
    );
    assert_eq!(decode(""), Err(ImbError::BarLength { actual: 0 }));
    assert_eq!(
        decode(&format!("{} {}", &bars[..32], &bars[33..])),
        Err(ImbError::InvalidBar {
            position: 33,
            found: ' '
        })
    );
    let mut damaged = bars.to_owned();
    damaged.replace_range(16..17, "X");
    let err = decode(&damaged).unwrap_err();
    assert_eq!(
        err,
        ImbError::InvalidBar {
            position: 17,
            found: 'X'
        }
    );
    assert_eq!(err.to_string(), "bar 17 is 'X', expected one of F, A, D, T");
}

#[test]
fn invalid_character_is_reported() {
    // Bar 1 carries bit 2 of H (descender) and bit 3 of E (ascender): adding the ascender
    // gives E one bit too many or too few.
    let bars = APPENDIX_B[0].2;
    assert_eq!(&bars[..1], "A");
    let damaged = format!("T{}", &bars[1..]);
    match decode(&damaged) {
        Err(ImbError::InvalidCharacter {
            character: 'E',
            bits,
        }) => {
            assert!(![2, 5, 8, 11].contains(&bits.count_ones()));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn frame_check_mismatch_is_reported() {
    // Inverting one character keeps it a valid character but flips one FCS bit.
    for (_, _, bars) in all_vectors() {
        for i in 0..10 {
            let mut chars = bars_to_chars(&parse_bars(bars).unwrap());
            chars[i] ^= ALL_13;
            let damaged = bars_to_string(&chars_to_bars(&chars));
            match decode(&damaged) {
                Err(ImbError::FrameCheckMismatch { expected, found }) => {
                    assert_eq!(expected ^ found, 1 << i)
                }
                other => panic!("character {i}: unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn codeword_range_errors() {
    let mut cw = [0u16; 10];
    cw[9] = 1; // odd: never produced by an encoder
    let bars = bars_to_string(&codewords_to_bars(&cw, 0));
    assert_eq!(
        decode(&bars),
        Err(ImbError::CodewordOutOfRange {
            codeword: 'J',
            value: 1
        })
    );
    cw[9] = 1272; // even but 636 or more once halved
    let bars = bars_to_string(&codewords_to_bars(&cw, 0));
    assert_eq!(
        decode(&bars),
        Err(ImbError::CodewordOutOfRange {
            codeword: 'J',
            value: 1272
        })
    );
    cw[9] = 0;
    cw[0] = 1318; // above 658 + 659
    let bars = bars_to_string(&codewords_to_bars(&cw, 0));
    assert_eq!(
        decode(&bars),
        Err(ImbError::CodewordOutOfRange {
            codeword: 'A',
            value: 1318
        })
    );
}

#[test]
fn value_range_is_checked() {
    let max = bars_to_string(&value_to_bars(MAX_VALUE));
    assert_eq!(max, USPS_CASES[9].2);
    let too_big = bars_to_string(&value_to_bars(MAX_VALUE + 1));
    assert_eq!(
        decode(&too_big),
        Err(ImbError::ValueOutOfRange {
            value: MAX_VALUE + 1
        })
    );
}

#[test]
fn error_messages_are_plain_english() {
    let cases: [(ImbError, &str); 15] = [
        (
            ImbError::TrackingNonDigit {
                position: 5,
                found: 'X',
            },
            "tracking code character 5 is 'X', expected a digit 0-9",
        ),
        (
            ImbError::TrackingLength { actual: 17 },
            "tracking code must be 20 digits, got 17 characters",
        ),
        (
            ImbError::RoutingNonDigit {
                position: 7,
                found: 'B',
            },
            "routing code character 7 is 'B', expected a digit 0-9",
        ),
        (
            ImbError::RoutingLength { actual: 10 },
            "routing code must be 0, 5, 9 or 11 digits, got 10 characters",
        ),
        (
            ImbError::DigitsLength { actual: 21 },
            "IMb digits must be 20, 25, 29 or 31 digits (tracking code followed by routing \
             code), got 21 characters",
        ),
        (
            ImbError::BarcodeIdSecondDigit { digit: 8 },
            "the second digit of the barcode ID must be 0-4, got 8",
        ),
        (
            ImbError::FieldOutOfRange {
                field: "service type ID",
                value: 1000,
                max: 999,
            },
            "service type ID 1000 is out of range (at most 999)",
        ),
        (
            ImbError::InvalidMailerId { mailer_id: 950_000 },
            "mailer ID 950000 is neither 6 digits starting with 0-8 nor 9 digits starting \
             with 9",
        ),
        (
            ImbError::BarLength { actual: 64 },
            "an IMb has 65 bars, got 64 characters",
        ),
        (
            ImbError::InvalidBar {
                position: 17,
                found: 'X',
            },
            "bar 17 is 'X', expected one of F, A, D, T",
        ),
        (
            ImbError::InvalidCharacter {
                character: 'E',
                bits: 0x1F,
            },
            "not a valid IMb: the bars of character E read 0x001F, which is not in the \
             5-of-13 or 2-of-13 table (a bar is probably misread or damaged)",
        ),
        (
            ImbError::CodewordOutOfRange {
                codeword: 'J',
                value: 1,
            },
            "not a valid IMb: codeword J is 1, which no encoder produces",
        ),
        (
            ImbError::FrameCheckMismatch {
                expected: 0x751,
                found: 0x750,
            },
            "frame check mismatch: the bars carry 0x750 but the data gives 0x751",
        ),
        (
            ImbError::UpsideDown,
            "the barcode was read upside down (it decodes when reversed with ascenders and \
             descenders swapped)",
        ),
        (
            ImbError::ValueOutOfRange { value: 7 },
            "decoded value 7 is larger than any tracking and routing code can produce",
        ),
    ];
    for (err, message) in cases {
        assert_eq!(err.to_string(), message);
        let dynamic: &dyn std::error::Error = &err;
        assert!(dynamic.source().is_none());
    }
}

#[test]
fn tracking_code_formatting() {
    let data = ImbData {
        barcode_id: 0,
        service_type_id: 7,
        mailer_id: 42,
        serial: 5,
        routing: String::new(),
    };
    assert_eq!(data.tracking_code(), "00007000042000000005");
    assert_eq!(data.mailer_id_len(), 6);
    let data = ImbData {
        mailer_id: 900_000_001,
        ..data
    };
    assert_eq!(data.tracking_code(), "00007900000001000005");
    assert_eq!(data.mailer_id_len(), 9);
}
