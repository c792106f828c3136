//! A kind's outcomes (how a case can end) and the fields its figures read: checked here so
//! that a figure never reads a field that is missing or of the wrong type.

use super::load::{Source, identifier};
use super::raw::{RawFigures, RawOutcome, S};
use super::{FieldDef, FieldType, FiguresDef, OutcomeDef, ProgrammeError};

pub(super) fn load_outcomes(src: &Source<'_>, raw: &[S<RawOutcome>]) -> Result<Vec<OutcomeDef>, ProgrammeError> {
    let mut out: Vec<OutcomeDef> = Vec::new();
    for item in raw {
        let o = item.get_ref();
        let code = identifier(src, &o.code, "outcome code")?;
        if out.iter().any(|x| x.code == code) {
            return src.err(o.code.span(), format!("outcome {code} appears twice"));
        }
        if (o.first_line || o.agreement) && !o.resolved {
            return src.err(item.span(), format!("outcome {code}: first_line and agreement outcomes must be resolved = true"));
        }
        out.push(OutcomeDef {
            code,
            name: o.name.clone(),
            resolved: o.resolved,
            first_line: o.first_line,
            agreement: o.agreement,
        });
    }
    Ok(out)
}

pub(super) fn action_outcome(
    src: &Source<'_>,
    raw: Option<&S<String>>,
    outcomes: &[OutcomeDef],
    action: &str,
) -> Result<Option<String>, ProgrammeError> {
    let Some(raw) = raw else { return Ok(None) };
    if !outcomes.iter().any(|o| o.code == *raw.get_ref()) {
        return src.err(raw.span(), format!("action {action}: outcome {} is not one of the kind's outcomes", raw.get_ref()));
    }
    Ok(Some(raw.get_ref().clone()))
}

pub(super) fn load_figures(
    src: &Source<'_>,
    raw: Option<&S<RawFigures>>,
    fields: &[FieldDef],
    channels: &[String],
) -> Result<FiguresDef, ProgrammeError> {
    let Some(raw) = raw else { return Ok(FiguresDef::default()) };
    let f = raw.get_ref();
    let field = |name: &Option<S<String>>, what: &str, fits: fn(&FieldType) -> bool| -> Result<Option<String>, ProgrammeError> {
        let Some(name) = name else { return Ok(None) };
        match fields.iter().find(|d| d.code == *name.get_ref()) {
            Some(d) if fits(&d.kind) && !d.multiple => Ok(Some(d.code.clone())),
            Some(_) => src.err(name.span(), format!("figures.{what}: field {} is not a single {what} field", name.get_ref())),
            None => src.err(name.span(), format!("figures.{what}: the kind has no field {}", name.get_ref())),
        }
    };
    let money = |t: &FieldType| matches!(t, FieldType::Money { .. });
    let mut online_channels = Vec::new();
    for channel in &f.online_channels {
        if !channels.is_empty() && !channels.contains(channel.get_ref()) {
            return src.err(
                channel.span(),
                format!("figures.online_channels: {} is not one of the kind's channels", channel.get_ref()),
            );
        }
        online_channels.push(channel.get_ref().clone());
    }
    Ok(FiguresDef {
        category: field(&f.category, "category", |t| matches!(t, FieldType::Enum { .. }))?,
        amount: field(&f.amount, "amount", money)?,
        agreed_amount: field(&f.agreed_amount, "agreed_amount", money)?,
        paid_amount: field(&f.paid_amount, "paid_amount", money)?,
        performed: field(&f.performed, "performed", |t| matches!(t, FieldType::Bool))?,
        performance_due: field(&f.performance_due, "performance_due", |t| matches!(t, FieldType::Date))?,
        online_channels,
    })
}
