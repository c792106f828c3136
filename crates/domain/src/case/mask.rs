//! Masking personal information (ID-card and phone numbers, and text fields marked `personal`)
//! for people whose role may not see it, in case views, lists and exports.

use super::Case;
use crate::programme::{CaseKind, FieldType, FieldValue, Party};

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

/// An ID number shows its region prefix and check digit (110105**********2X ⇒ 6 + 2);
/// a phone its first three and last four digits.
fn mask_party(party: &Party) -> Party {
    Party {
        name: party.name.clone(),
        role: party.role.clone(),
        id_number: party.id_number.as_deref().map(|id| mask_middle(id, 6, 2)),
        phone: party.phone.as_deref().map(|p| mask_middle(p, 3, 4)),
    }
}

fn mask_value(value: &FieldValue, personal_text: bool) -> FieldValue {
    match value {
        FieldValue::Party(p) => FieldValue::Party(mask_party(p)),
        FieldValue::Text(t) if personal_text => FieldValue::Text(mask_middle(t, 1, 1)),
        FieldValue::List(items) => FieldValue::List(items.iter().map(|v| mask_value(v, personal_text)).collect()),
        other => other.clone(),
    }
}

impl Case {
    /// The case with parties' ID and phone numbers masked, and text fields the kind marks
    /// `personal` masked too.
    pub fn masked(&self, kind: Option<&CaseKind>) -> Case {
        let personal_text = |code: &str| {
            kind.and_then(|k| k.fields.iter().find(|f| f.code == code))
                .is_some_and(|f| f.personal && matches!(f.kind, FieldType::Text { .. }))
        };
        let mut case = self.clone();
        for (code, value) in &mut case.fields {
            *value = mask_value(value, personal_text(code));
        }
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
}
