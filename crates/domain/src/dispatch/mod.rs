//! Dispatch (派单): choosing who handles a case.
//!
//! A draw is a pure function of a [`DispatchRequest`] and a snapshot of the candidates with their
//! loads. Both are recorded with the result ([`DrawRecord`]), so any automatic draw can be replayed
//! later and shown to give the same answer (`fengqiao dispatch replay CASE`). Randomness comes
//! only from the recorded seed, through ChaCha20, whose output is fixed by its specification.

mod draw;

pub(crate) use draw::uniform;
pub use draw::{DispatchError, draw, eligible};

use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::org::{OrgId, OrgKind};
use crate::programme::DispatchPolicy;
use crate::region::{RegionCode, RegionLevel};

/// One handler that could receive the case: a unit, or a person inside a unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub unit: OrgId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<AccountId>,
    /// The region the handler serves (its organisation's region).
    pub region: RegionCode,
    pub unit_kind: OrgKind,
    /// Open cases weighted by kind.
    pub load: f64,
    /// Most weighted open cases the handler takes; `None`: no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<f64>,
    pub on_duty: bool,
    /// Holds the qualification the programme asks for (a practising licence, a reviewer's pool).
    pub qualified: bool,
    /// Catalog codes the handler is skilled in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    /// Declared conflicts of interest: party names, ID numbers or organisation ids the handler
    /// must never handle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// How many cases the handler has ever been given: round robin serves the one given the
    /// fewest since the cursor was last reset, so that the order survives restarts.
    pub assigned_total: u64,
}

impl Candidate {
    /// A stable key for ordering and for naming the choice.
    pub fn key(&self) -> String {
        match self.person {
            Some(person) => format!("{}/{}", self.unit, person),
            None => self.unit.to_string(),
        }
    }
}

/// What a draw must satisfy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchRequest {
    pub policy: DispatchPolicy,
    /// Where the case is.
    pub region: RegionCode,
    /// For `by_region`: the level whose unit answers first.
    pub level: RegionLevel,
    /// Eligible unit kinds (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unit_kinds: Vec<OrgKind>,
    /// Never a handler whose region is in the case's county.
    pub exclude_own_county: bool,
    /// Only handlers within this region (the case's city, for a review within the city).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<RegionCode>,
    /// For `skill`: the catalog code the handler must be skilled in; for the other policies,
    /// the code in which skilled handlers are preferred when any is eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    /// A skill every eligible handler must hold, whatever the policy (the record's vehicle
    /// class for a reviewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<String>,
    /// Cross-county shares for the case's county (target county, weight): the draw first picks
    /// a target county by weight, then the least loaded there; a target with nobody eligible
    /// spills over to every eligible candidate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<(RegionCode, f64)>,
    /// The case's conflict keys (its parties' names and ID numbers, its parties' organisations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflict_keys: Vec<String>,
    /// Handlers already tried and returned the case: not chosen again for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Load one more case of this kind adds.
    pub weight: f64,
    /// For `joint`: how many units to choose.
    pub count: usize,
    pub seed: u64,
}

/// An automatic draw with everything needed to repeat it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawRecord {
    pub request: DispatchRequest,
    /// The candidates as they were, loads included.
    pub candidates: Vec<Candidate>,
    /// Keys of the chosen candidates, in order.
    pub chosen: Vec<String>,
}

impl DrawRecord {
    /// Draws again from the recorded inputs; `Ok(true)` when the result is the recorded one.
    pub fn replay(&self) -> Result<(bool, Vec<String>), DispatchError> {
        let again = draw(&self.request, &self.candidates)?;
        let keys: Vec<String> = again.iter().map(|&i| self.candidates[i].key()).collect();
        Ok((keys == self.chosen, keys))
    }
}

#[cfg(test)]
mod tests;
