//! Masking personal information (ID-card and phone numbers, and text fields marked `personal`)
//! for people whose role may not see it, in case views, lists and exports.

use std::collections::BTreeMap;

use super::Case;
use crate::programme::{CaseKind, FieldDef, FieldValue, Party};

/// Keeps the first `head` and last `tail` characters and stars the rest.
pub fn mask_middle(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// An ID number shows its region prefix and check digits (110105**********2X ⇒ 6 + 2).
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 6, 2)
}

/// A party loses its ID number (as [`mask_id_number`]) and its phone but its first three and
/// last four digits.
fn mask_party(party: &Party) -> Party {
    Party {
        name: party.name.clone(),
        role: party.role.clone(),
        id_number: party.id_number.as_deref().map(mask_id_number),
        phone: party.phone.as_deref().map(|p| mask_middle(p, 3, 4)),
    }
}

/// Parties always lose their numbers; a field marked `personal` is masked whatever its type: a
/// text keeps its first and last character, any other value becomes stars (its type would tell
/// too much: a date of birth, a home position).
fn mask_value(value: &FieldValue, personal: bool) -> FieldValue {
    match value {
        FieldValue::Party(p) => FieldValue::Party(mask_party(p)),
        FieldValue::List(items) => FieldValue::List(items.iter().map(|v| mask_value(v, personal)).collect()),
        FieldValue::Text(t) if personal => FieldValue::Text(mask_middle(t, 1, 1)),
        _ if personal => FieldValue::Text("***".into()),
        other => other.clone(),
    }
}

/// Masks `fields` in place: parties everywhere, and the fields `personal` names.
pub fn mask_fields(fields: &mut BTreeMap<String, FieldValue>, personal: impl Fn(&str) -> bool) {
    for (code, value) in fields.iter_mut() {
        *value = mask_value(value, personal(code));
    }
}

/// True if `code` is a field of `defs` marked `personal`.
pub fn is_personal(defs: &[FieldDef], code: &str) -> bool {
    defs.iter().any(|f| f.code == code && f.personal)
}

impl Case {
    /// The case with parties' ID and phone numbers masked, and the fields the kind marks
    /// `personal` masked too.
    pub fn masked(&self, kind: Option<&CaseKind>) -> Case {
        let mut case = self.clone();
        mask_fields(&mut case.fields, |code| kind.is_some_and(|k| is_personal(&k.fields, code)));
        case
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_only_their_ends() {
        assert_eq!(mask_middle("11010519491231002X", 6, 2), "110105**********2X");
        assert_eq!(mask_middle("13800001234", 3, 4), "138****1234");
        assert_eq!(mask_middle("张三丰", 1, 1), "张*丰");
        assert_eq!(mask_middle("12", 3, 4), "**");
        let party = Party {
            name: "张三".into(),
            role: "申请人".into(),
            id_number: Some("11010519491231002X".into()),
            phone: Some("13800001234".into()),
        };
        let masked = mask_party(&party);
        assert_eq!(masked.name, "张三");
        assert_eq!(masked.id_number.as_deref(), Some("110105**********2X"));
        assert_eq!(masked.phone.as_deref(), Some("138****1234"));
    }

    #[test]
    fn personal_fields_of_every_type_are_masked_and_others_kept() {
        let mut fields = BTreeMap::from([
            ("note".to_owned(), FieldValue::Text("住址：路桥区某村12号".into())),
            ("born".to_owned(), FieldValue::Date(chrono::NaiveDate::from_ymd_opt(1980, 5, 6).unwrap())),
            ("home".to_owned(), FieldValue::Location { lon: 121.37, lat: 28.58 }),
            ("amount".to_owned(), FieldValue::Money(50_000)),
            (
                "applicant".to_owned(),
                FieldValue::Party(Party {
                    name: "李四".into(),
                    role: "申请人".into(),
                    id_number: Some("330104198005060012".into()),
                    phone: Some("13912345678".into()),
                }),
            ),
        ]);
        mask_fields(&mut fields, |code| ["note", "born", "home"].contains(&code));
        assert_eq!(fields["note"], FieldValue::Text("住*********号".into()));
        assert_eq!(fields["born"], FieldValue::Text("***".into()));
        assert_eq!(fields["home"], FieldValue::Text("***".into()));
        assert_eq!(fields["amount"], FieldValue::Money(50_000), "not personal: kept");
        let FieldValue::Party(p) = &fields["applicant"] else { panic!("a party stays a party") };
        assert_eq!((p.id_number.as_deref(), p.phone.as_deref()), (Some("330104**********12"), Some("139****5678")));
    }
}
