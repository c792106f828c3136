//! Guards: conditions on actions written in the Common Expression Language (CEL), compiled once
//! when the programme loads. A guard sees `case` (its fields plus `state`, `priority`, `region`,
//! `tier`, `reopened`), `input` (the action's inputs) and `actor.roles`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use serde_json::Value as Json;

/// A compiled guard.
#[derive(Clone)]
pub struct Guard {
    source: String,
    program: Arc<cel::Program>,
    /// The properties of `case` the expression names (`case.amount`...), or `None` when it may
    /// look at the whole case (`case[...]`, a macro over `case`). Only those are converted for
    /// an evaluation, which is most of its cost.
    case_properties: Option<Vec<String>>,
}

/// The names after `case.` in `source`, if `case` is only ever used that way.
fn case_properties(source: &str) -> Option<Vec<String>> {
    const MACROS: [&str; 5] = ["all", "exists", "exists_one", "map", "filter"];
    // String literals are blanked first, so that 'case' inside one is not taken for the variable.
    let mut blanked = String::with_capacity(source.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in source.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                blanked.push(if quote.is_none() { c } else { ' ' });
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                blanked.push(c);
            }
        }
    }
    let source = blanked.as_str();
    let bytes = source.as_bytes();
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(pos) = source[from..].find("case") {
        let start = from + pos;
        let end = start + 4;
        from = end;
        let before_ok =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_' || bytes[start - 1] == b'.');
        let after_ident = bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if !before_ok || after_ident {
            continue; // part of another identifier, or inside a string such as 'showcase'
        }
        if bytes.get(end) != Some(&b'.') {
            return None;
        }
        let name: String = source[end + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.is_empty() || MACROS.contains(&name.as_str()) {
            return None;
        }
        names.push(name);
    }
    names.sort();
    names.dedup();
    Some(names)
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

/// The standard library, built once: building it for every evaluation cost most of a guard's time.
static STDLIB: LazyLock<Arc<cel::Env>> = LazyLock::new(|| Arc::new(cel::Env::stdlib()));

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
        Ok(Guard { source: source.to_owned(), program: Arc::new(program), case_properties: case_properties(source) })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The case properties the guard reads (`None`: possibly all).
    pub fn case_properties(&self) -> Option<&[String]> {
        self.case_properties.as_deref()
    }

    /// Evaluates the guard over `case`, `input` and `actor` (JSON objects). Anything but `true`
    /// or `false` is an error.
    pub fn allows(&self, case: &Json, input: &Json, actor: &Json) -> Result<bool, GuardError> {
        self.holds(&[("case", case), ("input", input), ("actor", actor)])
    }

    /// Evaluates the expression over the named variables (other uses of CEL conditions, such as
    /// the inspection review rules over `record` and `facts`).
    pub fn holds(&self, variables: &[(&str, &Json)]) -> Result<bool, GuardError> {
        let mut context = cel::Context::with_env(Arc::clone(&STDLIB));
        for (name, value) in variables {
            context.add_variable_from_value(*name, to_cel(value));
        }
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
        assert_eq!(guard.case_properties(), Some(&["amount".to_owned()][..]));
        assert_eq!(Guard::compile("case.exists(k, k == 'x')").unwrap().case_properties(), None);
        assert_eq!(Guard::compile("case['amount'] > 1").unwrap().case_properties(), None);
        assert_eq!(
            Guard::compile("input.showcase == 'case' && case.tier == 1").unwrap().case_properties(),
            Some(&["tier".to_owned()][..])
        );
        let not_bool = Guard::compile("case.amount").unwrap();
        assert!(not_bool.allows(&json!({"amount": 1}), &json!({}), &actor).is_err());
        assert!(Guard::compile("case.amount <").is_err());
    }
}
