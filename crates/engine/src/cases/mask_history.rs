//! Personal information in a case's history. Events keep what was entered (the journal is the
//! record), so a masked view of a case must mask its timeline too: the `fields` of creation and
//! updates, and the `inputs` of actions, with the same rules as the case itself.

use std::collections::BTreeMap;

use fq_domain::case::{is_personal, mask_fields, mask_middle};
use fq_domain::programme::{CaseKind, FieldValue};
use serde_json::Value as Json;

/// Masks one event payload in place for a viewer who may not see personal information.
pub(crate) fn mask_event(event: &mut Json, kind: Option<&CaseKind>) {
    // A dispatch draw records the parties' names and ID numbers it checked for conflicts of
    // interest; the replay needs them, a masked reader does not.
    if let Some(keys) = event.pointer_mut("/draw/request/conflict_keys").and_then(Json::as_array_mut) {
        for key in keys.iter_mut() {
            if let Some(text) = key.as_str() {
                *key = Json::from(mask_middle(text, 1, 1));
            }
        }
    }
    let Some(payload) = event.as_object_mut() else { return };
    if let Some(fields) = payload.get_mut("fields") {
        mask_values(fields, |code| kind.is_some_and(|k| is_personal(&k.fields, code)));
    }
    let action = payload.get("action").and_then(Json::as_str).map(str::to_owned);
    if let Some(inputs) = payload.get_mut("inputs") {
        let def = kind.zip(action).and_then(|(k, a)| k.actions.iter().find(|d| d.code == a));
        mask_values(inputs, |code| def.is_some_and(|d| is_personal(&d.inputs, code)));
    }
}

/// Masks a JSON map of field values; a map that does not read as one is withheld (`null`)
/// rather than shown as it is.
fn mask_values(values: &mut Json, personal: impl Fn(&str) -> bool) {
    match serde_json::from_value::<BTreeMap<String, FieldValue>>(values.clone()) {
        Ok(mut map) => {
            mask_fields(&mut map, personal);
            *values = serde_json::to_value(map).unwrap_or(Json::Null);
        }
        Err(_) => *values = Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::mask_event;

    #[test]
    fn parties_in_fields_and_inputs_lose_their_numbers() {
        let party = json!({"t": "party", "v": {"name": "张三", "role": "申请人", "id_number": "11010519491231002X", "phone": "13800001234"}});
        let mut created = json!({"type": "created", "fields": {"applicant": party, "title": {"t": "text", "v": "邻里纠纷"}}});
        mask_event(&mut created, None);
        assert_eq!(created["fields"]["applicant"]["v"]["phone"], "138****1234");
        assert_eq!(created["fields"]["applicant"]["v"]["id_number"], "110105**********2X");
        assert_eq!(created["fields"]["title"]["v"], "邻里纠纷");
        let mut acted = json!({"type": "acted", "action": "finish", "inputs": {"witness": party}});
        mask_event(&mut acted, None);
        assert_eq!(acted["inputs"]["witness"]["v"]["phone"], "138****1234");
        let mut assigned = json!({"type": "assigned", "draw": {"request": {"conflict_keys": ["11010519491231002X", "张三"]}}});
        mask_event(&mut assigned, None);
        assert_eq!(assigned["draw"]["request"]["conflict_keys"], json!(["1****************X", "**"]));
        let mut odd = json!({"fields": ["not", "a", "map"]});
        mask_event(&mut odd, None);
        assert!(odd["fields"].is_null(), "an unreadable map is withheld");
    }
}
