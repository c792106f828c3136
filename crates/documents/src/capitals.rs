//! Amounts in Chinese financial capital numerals (大写金额), as written on cheques and agreements.

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];

/// Writes an amount in fen (1/100 yuan) in Chinese financial capital numerals, following the
/// People's Bank of China rules for filling in cheques (《正确填写票据和结算凭证的基本规定》).
///
/// - Always starts with `人民币`.
/// - Whole yuan end with `整` (`800000` → `人民币捌仟元整`); amounts with 角 or 分 do not
///   (`1200050` → `人民币壹万贰仟元零伍角`, `1234` → `人民币壹拾贰元叁角肆分`).
/// - `拾` always carries its digit: `1000` → `人民币壹拾元整`.
/// - Zeros inside the number are written as a single `零` (`100100` → `人民币壹仟零壹元整`),
///   and so is a zero 元 digit or a zero 角 in front of a non-zero smaller unit
///   (`100000000001` → `人民币壹拾亿元零壹分`, `1002` → `人民币壹拾元零贰分`).
/// - Less than one yuan has no 元 part (`50` → `人民币伍角`); zero is `人民币零元整`.
/// - Above 9999 亿 the groups nest: `壹万亿`, `壹亿亿` (all of `i64` fits).
/// - **Negative amounts** get `负` after `人民币`: `-800000` → `人民币负捌仟元整`.
pub fn yuan_in_capitals(fen: i64) -> String {
    let mut out = String::from("人民币");
    if fen < 0 {
        out.push('负');
    }
    let fen = fen.unsigned_abs();
    let yuan = fen / 100;
    let jiao = (fen / 10 % 10) as usize;
    let cents = (fen % 10) as usize;

    if yuan > 0 {
        integer(yuan, &mut out);
        out.push('元');
    }
    if jiao == 0 && cents == 0 {
        if yuan == 0 {
            out.push_str("零元");
        }
        out.push('整');
        return out;
    }
    // A zero 元 digit, or a zero 角 before the 分, is written as one 零 after 元.
    if yuan > 0 && (yuan.is_multiple_of(10) || jiao == 0) {
        out.push('零');
    }
    if jiao > 0 {
        out.push(DIGITS[jiao]);
        out.push('角');
    }
    if cents > 0 {
        out.push(DIGITS[cents]);
        out.push('分');
    }
    out
}

/// A positive integer with 万/亿 groups; never ends with 零.
fn integer(n: u64, out: &mut String) {
    const YI: u64 = 100_000_000;
    let (high, low) = (n / YI, n % YI);
    if high > 0 {
        integer(high, out);
        out.push('亿');
        if low > 0 && low < YI / 10 {
            out.push('零');
        }
    }
    if low > 0 {
        below_yi(low, out);
    }
}

/// 1 ≤ n < 10^8.
fn below_yi(n: u64, out: &mut String) {
    let (wan, rest) = (n / 10_000, n % 10_000);
    if wan > 0 {
        below_wan(wan, out);
        out.push('万');
        if rest > 0 && rest < 1_000 {
            out.push('零');
        }
    }
    if rest > 0 {
        below_wan(rest, out);
    }
}

/// 1 ≤ n < 10^4: digits with 仟佰拾, inner zeros as one 零, trailing zeros dropped.
fn below_wan(n: u64, out: &mut String) {
    const UNITS: [(u64, Option<char>); 4] = [(1000, Some('仟')), (100, Some('佰')), (10, Some('拾')), (1, None)];
    let mut started = false;
    let mut pending_zero = false;
    for (place, unit) in UNITS {
        let digit = (n / place % 10) as usize;
        if digit == 0 {
            pending_zero |= started;
            continue;
        }
        if pending_zero {
            out.push('零');
            pending_zero = false;
        }
        started = true;
        out.push(DIGITS[digit]);
        if let Some(unit) = unit {
            out.push(unit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::yuan_in_capitals;
    use proptest::prelude::*;

    /// Known values, following the examples of the cheque-filling rules.
    #[test]
    fn known_values() {
        let cases: &[(i64, &str)] = &[
            (0, "人民币零元整"),
            (1, "人民币壹分"),
            (10, "人民币壹角"),
            (55, "人民币伍角伍分"),
            (100, "人民币壹元整"),
            (1_000, "人民币壹拾元整"),
            (1_600, "人民币壹拾陆元整"),
            (1_002, "人民币壹拾元零贰分"),
            (32_504, "人民币叁佰贰拾伍元零肆分"),
            (100_100, "人民币壹仟零壹元整"),
            (140_950, "人民币壹仟肆佰零玖元伍角"),
            (168_032, "人民币壹仟陆佰捌拾元零叁角贰分"),
            (600_714, "人民币陆仟零柒元壹角肆分"),
            (800_000, "人民币捌仟元整"),
            (1_001_000, "人民币壹万零壹拾元整"),
            (1_200_050, "人民币壹万贰仟元零伍角"),
            (1_640_902, "人民币壹万陆仟肆佰零玖元零贰分"),
            (10_000_000, "人民币壹拾万元整"),
            (10_700_053, "人民币壹拾万柒仟元零伍角叁分"),
            (10_100_000, "人民币壹拾万壹仟元整"),
            (325_600_000, "人民币叁佰贰拾伍万陆仟元整"),
            (100_000_005, "人民币壹佰万元零伍分"),
            (10_000_000_000, "人民币壹亿元整"),
            (10_000_000_100, "人民币壹亿零壹元整"),
            (10_100_000_000, "人民币壹亿零壹佰万元整"),
            (11_000_000_000, "人民币壹亿壹仟万元整"),
            (100_000_000_001, "人民币壹拾亿元零壹分"),
            (100_000_000_000_000, "人民币壹万亿元整"),
            (100_010_000_000_000, "人民币壹万零壹亿元整"),
            (-800_000, "人民币负捌仟元整"),
            (i64::MAX, "人民币玖亿贰仟贰佰叁拾叁万柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾捌元零柒分"),
        ];
        for &(fen, expected) in cases {
            assert_eq!(yuan_in_capitals(fen), expected, "{fen} fen");
        }
    }

    /// Reads capital numerals back into fen (the inverse, for the round-trip property).
    fn parse(text: &str) -> i128 {
        let mut rest = text.strip_prefix("人民币").expect("prefix");
        let negative = rest.starts_with('负');
        if negative {
            rest = &rest['负'.len_utf8()..];
        }
        let (mut total, mut wan_block, mut section, mut digit) = (0i128, 0i128, 0i128, 0i128);
        let (mut yuan, mut fen) = (0i128, 0i128);
        for c in rest.chars() {
            if let Some(d) = super::DIGITS.iter().position(|&x| x == c) {
                digit = d as i128;
                continue;
            }
            match c {
                '拾' => section += digit * 10,
                '佰' => section += digit * 100,
                '仟' => section += digit * 1000,
                '万' => {
                    wan_block += (section + digit) * 10_000;
                    section = 0;
                }
                '亿' => {
                    total = (total + wan_block + section + digit) * 100_000_000;
                    wan_block = 0;
                    section = 0;
                }
                '元' => yuan = total + wan_block + section + digit,
                '角' => fen += digit * 10,
                '分' => fen += digit,
                '整' => {}
                other => panic!("unexpected {other} in {text}"),
            }
            digit = 0;
        }
        let value = yuan * 100 + fen;
        if negative { -value } else { value }
    }

    proptest! {
        #[test]
        fn shape(fen in any::<i64>()) {
            let text = yuan_in_capitals(fen);
            prop_assert!(text.starts_with("人民币"));
            prop_assert_eq!(text.ends_with('整'), fen % 100 == 0, "{}", text);
            prop_assert!(!text.contains("零零"), "{}", text);
            prop_assert!(!text.contains("零元") || fen == 0, "{}", text);
            prop_assert!(!text.contains("零整") && !text.contains("零万") && !text.contains("零亿"), "{}", text);
            prop_assert_eq!(parse(&text), i128::from(fen), "{}", text);
        }

        /// Amounts as they occur in cases (up to 10 亿 yuan), where every digit pattern matters.
        #[test]
        fn round_trip_everyday(fen in 0i64..100_000_000_000) {
            let text = yuan_in_capitals(fen);
            prop_assert!(!text.contains("零零"), "{}", text);
            prop_assert_eq!(parse(&text), i128::from(fen), "{}", text);
        }

        /// Numbers with many zero digits (the hard cases for 零).
        #[test]
        fn sparse_digits(digits in proptest::collection::vec(prop_oneof![4 => Just(0u8), 1 => 1u8..10], 1..18)) {
            let fen = digits.iter().fold(0i64, |n, &d| n * 10 + i64::from(d));
            let text = yuan_in_capitals(fen);
            prop_assert!(!text.contains("零零"), "{}", text);
            prop_assert_eq!(text.ends_with('整'), fen % 100 == 0, "{}", text);
            prop_assert_eq!(parse(&text), i128::from(fen), "{}", text);
        }
    }
}
