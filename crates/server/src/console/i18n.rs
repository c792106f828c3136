//! The console's one message catalogue (`templates/messages.toml`): every key has its Simplified
//! Chinese and its English text. Simplified Chinese is the default; the `fq_lang` cookie switches.
//!
//! Templates call `t("key")`, or `t("key", name=value)` to fill `{name}` in the text; the language
//! comes from the template's `lang` variable. Handlers call [`text`] and [`fill`].

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::HeaderMap;
use minijinja::value::Kwargs;
use minijinja::{State, Value};

use crate::auth::cookie;

/// The language cookie's name.
pub(crate) const LANG_COOKIE: &str = "fq_lang";

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub(crate) fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The language the request asks for (its cookie), Simplified Chinese by default.
    pub(crate) fn of(headers: &HeaderMap) -> Lang {
        cookie(headers, LANG_COOKIE).as_deref().and_then(Lang::parse).unwrap_or_default()
    }
}

/// One message in both languages.
#[derive(Debug)]
pub(crate) struct Message {
    pub zh: String,
    pub en: String,
}

/// Every message by its dotted key (`nav.cases`).
#[derive(Debug)]
pub(crate) struct Catalogue {
    pub messages: HashMap<String, Message>,
}

const SOURCE: &str = include_str!("../../templates/messages.toml");

/// Loaded once, on first use.
pub(crate) static CATALOGUE: LazyLock<Catalogue> =
    LazyLock::new(|| Catalogue::parse(SOURCE).unwrap_or_else(|e| panic!("templates/messages.toml: {e}")));

impl Catalogue {
    /// Parses the catalogue: nested tables whose leaves are `{ zh = "...", en = "..." }`.
    pub(crate) fn parse(source: &str) -> Result<Catalogue, String> {
        let table: toml::Table = toml::from_str(source).map_err(|e| e.to_string())?;
        let mut messages = HashMap::new();
        collect("", &table, &mut messages)?;
        Ok(Catalogue { messages })
    }
}

fn collect(prefix: &str, table: &toml::Table, out: &mut HashMap<String, Message>) -> Result<(), String> {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        let toml::Value::Table(inner) = value else { return Err(format!("{path}: expected a table")) };
        match (inner.get("zh"), inner.get("en")) {
            (Some(toml::Value::String(zh)), Some(toml::Value::String(en))) if inner.len() == 2 => {
                out.insert(path, Message { zh: zh.clone(), en: en.clone() });
            }
            (None, None) => collect(&path, inner, out)?,
            _ => return Err(format!("{path}: a message needs exactly zh and en texts")),
        }
    }
    Ok(())
}

/// The message `key` in `lang`; the key itself when the catalogue lacks it (a test checks that
/// every key used exists).
pub(crate) fn text(lang: Lang, key: &str) -> String {
    match CATALOGUE.messages.get(key) {
        Some(m) if lang == Lang::En => m.en.clone(),
        Some(m) => m.zh.clone(),
        None => key.to_owned(),
    }
}

/// The message `key` in `lang` with `{name}` placeholders filled.
pub(crate) fn fill(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut out = text(lang, key);
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// True if the catalogue has `key`.
pub(crate) fn has(key: &str) -> bool {
    CATALOGUE.messages.contains_key(key)
}

/// The template function `t(key, **args)`.
#[allow(clippy::needless_pass_by_value, reason = "minijinja hands keyword arguments to functions by value")]
pub(crate) fn template_t(state: &State, key: &str, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let lang = state.lookup("lang").and_then(|v| v.as_str().and_then(Lang::parse)).unwrap_or_default();
    let mut out = text(lang, key);
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_loads_with_both_languages() {
        assert!(CATALOGUE.messages.len() > 100);
        for (key, m) in &CATALOGUE.messages {
            assert!(!m.zh.trim().is_empty() && !m.en.trim().is_empty(), "{key} lacks a text");
        }
        assert_eq!(text(Lang::Zh, "nav.cases"), "案件");
        assert_eq!(text(Lang::En, "nav.cases"), "Cases");
        assert_eq!(text(Lang::En, "no.such.key"), "no.such.key");
        assert!(Catalogue::parse("[a]\nzh = \"x\"\n").is_err(), "a message without English is refused");
    }

    /// Every `t("...")` in the templates and every key the handlers name exists.
    #[test]
    fn every_key_used_exists() {
        let mut missing = Vec::new();
        for name in crate::console::templates::Templates::iter().filter(|n| n.ends_with(".html") || n.ends_with(".svg")) {
            let file = crate::console::templates::Templates::get(&name).expect("listed");
            let source = String::from_utf8_lossy(&file.data).into_owned();
            for part in source.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                if !has(key) {
                    missing.push(format!("{name}: {key}"));
                }
            }
        }
        // Keys the code hands to `text` and `fill` as literals.
        for source in crate::console::RUST_SOURCES {
            for call in ["text(lang, \"", "text(viewer.lang, \"", "text(choices.lang, \"", "fill(lang, \""] {
                for part in source.split(call).skip(1) {
                    let key = part.split('"').next().unwrap_or_default();
                    if !has(key) {
                        missing.push(format!("rust: {key}"));
                    }
                }
            }
        }
        // Keys the code builds from codes.
        let mut built: Vec<String> = Vec::new();
        built.extend(["running", "paused", "stopped"].map(|s| format!("case.clock_{s}")));
        built.extend(["normal", "urgent"].map(|s| format!("case.priority_{s}")));
        built.extend(
            [
                "station",
                "online",
                "hotline",
                "referral",
                "grid",
                "shared_court",
                "court_referral",
                "open311",
                "letter",
                "station_push",
                "batch_file",
            ]
            .map(|s| format!("case.channel_{s}")),
        );
        built.extend(fq_domain::org::OrgKind::ALL.map(|k| format!("admin.kind_{}", k.as_str())));
        built.extend(["admin", "leader", "staff"].map(|s| format!("admin.role_{s}")));
        built.extend(["comprehensive", "dedicated"].map(|s| format!("admin.grid_{s}")));
        built.extend(["note", "reminder", "yellow", "red"].map(|s| format!("tl.level_{s}")));
        built.extend(
            ["org_created", "account_created", "disabled", "enabled", "grids_generated", "grids_imported"]
                .map(|s| format!("flash.{s}")),
        );
        built.extend(
            ["opened", "open", "closed", "overdue_open", "on_time_rate", "mean_rating", "yellow_cards", "red_cards"]
                .map(|s| format!("dash.{s}")),
        );
        built.extend(["number", "due", "opened"].map(|s| format!("cases.sort_{s}")));
        built.extend(["form.yes", "form.no"].map(str::to_owned));
        built.extend(crate::console::export::COLUMNS.map(str::to_owned));
        missing.extend(built.into_iter().filter(|k| !has(k)));
        assert!(missing.is_empty(), "keys missing from messages.toml: {missing:#?}");
    }
}
