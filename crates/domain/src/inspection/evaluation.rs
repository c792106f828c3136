//! Sub-centre evaluation (分中心考评): per county of the reviewers and per reviewer, the review
//! volume, the mean review time, the rejections by reason, and the re-check disagreement rate.

use std::collections::BTreeMap;

use serde::Serialize;

use super::supervision::{Recheck, ReviewDone};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evaluation {
    pub reviews: u32,
    pub seconds_sum: u64,
    pub rejected: u32,
    /// Rejections by reason code.
    pub reasons: BTreeMap<String, u32>,
    pub rechecked: u32,
    pub disagreements: u32,
}

impl Evaluation {
    pub fn mean_seconds(&self) -> Option<f64> {
        (self.reviews > 0).then(|| self.seconds_sum as f64 / f64::from(self.reviews))
    }

    pub fn rejection_rate(&self) -> Option<f64> {
        (self.reviews > 0).then(|| f64::from(self.rejected) / f64::from(self.reviews))
    }

    pub fn disagreement_rate(&self) -> Option<f64> {
        (self.rechecked > 0).then(|| f64::from(self.disagreements) / f64::from(self.rechecked))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvaluationReport {
    pub by_county: BTreeMap<String, Evaluation>,
    pub by_reviewer: BTreeMap<String, Evaluation>,
}

/// Folds the reviews (with the reasons of each rejection, by record) and the re-checks, the
/// reviewers placed in their counties by `county_of`.
pub fn evaluate(
    reviews: &[ReviewDone],
    reasons: &BTreeMap<String, Vec<String>>,
    rechecks: &[Recheck],
    county_of: &BTreeMap<String, String>,
) -> EvaluationReport {
    let mut report = EvaluationReport::default();
    let unknown = String::from("unknown");
    for review in reviews {
        let county = county_of.get(&review.reviewer).unwrap_or(&unknown).clone();
        for evaluation in
            [report.by_county.entry(county).or_default(), report.by_reviewer.entry(review.reviewer.clone()).or_default()]
        {
            evaluation.reviews += 1;
            evaluation.seconds_sum += u64::from(review.seconds);
            if !review.passed {
                evaluation.rejected += 1;
                for reason in reasons.get(&review.record).into_iter().flatten() {
                    *evaluation.reasons.entry(reason.clone()).or_default() += 1;
                }
            }
        }
    }
    for recheck in rechecks {
        let county = county_of.get(&recheck.first_reviewer).unwrap_or(&unknown).clone();
        for evaluation in
            [report.by_county.entry(county).or_default(), report.by_reviewer.entry(recheck.first_reviewer.clone()).or_default()]
        {
            evaluation.rechecked += 1;
            evaluation.disagreements += u32::from(!recheck.second_passed);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counties_and_reviewers_are_evaluated_from_the_same_reviews() {
        let review = |record: &str, reviewer: &str, passed: bool, seconds: u32| ReviewDone {
            record: record.into(),
            reviewer: reviewer.into(),
            passed,
            seconds,
        };
        let reviews = vec![
            review("a", "r1", true, 60),
            review("b", "r1", false, 120),
            review("c", "r2", false, 90),
            review("d", "r3", true, 30),
        ];
        let reasons = BTreeMap::from([
            ("b".to_owned(), vec!["watermark_before_start".to_owned()]),
            ("c".to_owned(), vec!["watermark_before_start".to_owned(), "photos_incomplete".to_owned()]),
        ]);
        let rechecks = vec![
            Recheck { record: "a".into(), first_reviewer: "r1".into(), second_passed: false },
            Recheck { record: "d".into(), first_reviewer: "r3".into(), second_passed: true },
        ];
        let county_of = BTreeMap::from([
            ("r1".to_owned(), "330702".to_owned()),
            ("r2".to_owned(), "330702".to_owned()),
            ("r3".to_owned(), "330782".to_owned()),
        ]);
        let report = evaluate(&reviews, &reasons, &rechecks, &county_of);
        let wucheng = &report.by_county["330702"];
        assert_eq!((wucheng.reviews, wucheng.rejected), (3, 2));
        assert_eq!(wucheng.mean_seconds(), Some(90.0));
        assert_eq!(wucheng.reasons["watermark_before_start"], 2);
        assert_eq!(wucheng.disagreement_rate(), Some(1.0));
        let r3 = &report.by_reviewer["r3"];
        assert_eq!((r3.rejection_rate(), r3.disagreement_rate()), (Some(0.0), Some(0.0)));
        assert_eq!(report.by_reviewer["r2"].disagreement_rate(), None, "never re-checked");
    }
}
