//! Guards: conditions on actions written in the Common Expression Language (CEL), compiled once
//! when the programme loads. A guard sees `case` (its fields plus `state`, `priority`, `region`,
//! `tier`, `reopened`), `input` (the action's inputs) and `actor.roles`.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

/// A compiled guard.
#[derive(Clone)]
pub struct Guard {
    source: String,
    program: Arc<cel::Program>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Guard({:?})", self.source)
    }
}

/// Why a guard could not be evaluated (a definition error that slipped past loading, such as a
/// missing variable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("guard {expression:?} cannot be evaluated: {reason}")]
pub struct GuardError {
    pub expression: String,
    pub reason: String,
}

fn to_cel(value: &Json) -> cel::Value {
    match value {
        Json::Null => cel::Value::Null,
        Json::Bool(b) => cel::Value::Bool(*b),
        Json::Number(n) => n.as_i64().map(cel::Value::Int).unwrap_or_else(|| cel::Value::Float(n.as_f64().unwrap_or(f64::NAN))),
        Json::String(s) => cel::Value::from(s.as_str()),
        Json::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(map) => {
            let map: HashMap<String, cel::Value> = map.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect();
            cel::Value::from(map)
        }
    }
}

impl Guard {
    /// Compiles `source`; the error text carries CEL's own message with the column.
    pub fn compile(source: &str) -> Result<Guard, String> {
        let program = cel::Program::compile(source).map_err(|e| e.to_string())?;
        Ok(Guard { source: source.to_owned(), program: Arc::new(program) })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the guard over `case`, `input` and `actor` (JSON objects). Anything but `true`
    /// or `false` is an error.
    pub fn allows(&self, case: &Json, input: &Json, actor: &Json) -> Result<bool, GuardError> {
        let mut context = cel::Context::default();
        context.add_variable_from_value("case", to_cel(case));
        context.add_variable_from_value("input", to_cel(input));
        context.add_variable_from_value("actor", to_cel(actor));
        match self.program.execute(&context) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => {
                Err(GuardError { expression: self.source.clone(), reason: format!("it gave {other:?}, not true or false") })
            }
            Err(e) => Err(GuardError { expression: self.source.clone(), reason: e.to_string() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn guards_see_case_input_and_actor() {
        let guard = Guard::compile("case.amount < 100000.0 && input.reason != '' && 'leader' in actor.roles").unwrap();
        let actor = json!({"roles": ["leader"]});
        assert!(guard.allows(&json!({"amount": 500.0}), &json!({"reason": "理由"}), &actor).unwrap());
        assert!(!guard.allows(&json!({"amount": 200000.0}), &json!({"reason": "理由"}), &actor).unwrap());
        assert!(!guard.allows(&json!({"amount": 5.0}), &json!({"reason": "x"}), &json!({"roles": []})).unwrap());
        let err = guard.allows(&json!({}), &json!({"reason": "x"}), &actor).unwrap_err();
        assert!(err.reason.contains("amount") || !err.reason.is_empty(), "{err}");
        let not_bool = Guard::compile("case.amount").unwrap();
        assert!(not_bool.allows(&json!({"amount": 1}), &json!({}), &actor).is_err());
        assert!(Guard::compile("case.amount <").is_err());
    }
}
