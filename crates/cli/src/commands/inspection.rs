//! `fengqiao inspection review`: a batch of inspection records against the review standard.

use std::collections::BTreeMap;

use fq_domain::calendar::local_date;
use fq_domain::inspection::{InspectionRecord, RuleSet, Verdict, anomalies};
use fq_engine::shipped_rule_sets;
use serde_json::json;

use crate::args::InspectionCommand;
use crate::failure::{Failure, Outcome};

pub fn run(command: InspectionCommand) -> Outcome {
    let InspectionCommand::Review { records, rules, json } = command;
    let sets = match &rules {
        None => shipped_rule_sets()?,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", path.display())))?;
            vec![RuleSet::load(&path.display().to_string(), &text).map_err(|e| Failure::new("rules_invalid", e.to_string()))?]
        }
    };
    let text = std::fs::read_to_string(&records)
        .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", records.display())))?;
    let mut batch = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let record: InspectionRecord = serde_json::from_str(line)
            .map_err(|e| Failure::new("record_invalid", format!("{}:{}: {e}", records.display(), i + 1)))?;
        batch.push(record);
    }
    let mut verdicts: BTreeMap<Verdict, u64> = BTreeMap::new();
    let mut fired: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for record in &batch {
        let day = local_date(record.inspection_started);
        let set = RuleSet::in_force(&sets, day)
            .ok_or_else(|| Failure::new("rules_not_in_force", format!("{}: no rule set is in force on {day}", record.id)))?;
        let review = set.review(record).map_err(|e| Failure::new("rule_failed", format!("{}: {e}", record.id)))?;
        *verdicts.entry(review.verdict).or_default() += 1;
        for f in review.fired {
            fired.entry(f.code).or_insert((0, f.text)).0 += 1;
        }
    }
    let found = anomalies(&batch, &[]);
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for a in &found {
        *kinds
            .entry(serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
            .or_default() += 1;
    }
    let synthetic = batch.iter().filter(|r| r.synthetic).count();
    if json {
        let verdicts: BTreeMap<String, u64> = verdicts
            .iter()
            .map(|(v, n)| (serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(), *n))
            .collect();
        let rules: BTreeMap<&str, u64> = fired.iter().map(|(code, (n, _))| (code.as_str(), *n)).collect();
        println!(
            "{}",
            json!({ "records": batch.len(), "synthetic": synthetic, "verdicts": verdicts, "rules": rules, "anomalies": kinds })
        );
    } else {
        println!("{} records ({synthetic} synthetic) reviewed against the rule set in force on each day", batch.len());
        for (verdict, n) in &verdicts {
            println!("  {verdict:?}: {n}");
        }
        for (code, (n, text)) in &fired {
            println!("  {code} fired {n} times: {text}");
        }
        for (kind, n) in &kinds {
            println!("  anomaly {kind}: {n}");
        }
    }
    Ok(())
}
