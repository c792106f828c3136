//! Which grid polygon a point falls in. The polygons' bounding boxes are filed in a uniform
//! bucket grid (about four buckets per polygon); a point looks only at its bucket's polygons,
//! first their boxes, then an even-odd ray test over their rings (holes included). A point
//! on no polygon is `None`, for the caller to fall back to the town or county by region code.

/// A polygon: its code and rings of (lon, lat), the first the outer boundary, the rest holes.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub code: String,
    pub rings: Vec<Vec<[f64; 2]>>,
}

#[derive(Debug, Clone)]
struct Entry {
    bbox: [f64; 4],
    rings: Vec<Vec<[f64; 2]>>,
}

/// The index.
#[derive(Debug, Clone)]
pub struct PolygonIndex {
    entries: Vec<Entry>,
    codes: Vec<String>,
    origin: [f64; 2],
    step: [f64; 2],
    cols: usize,
    rows: usize,
    /// Bucket b's polygons are `ids[offsets[b]..offsets[b + 1]]`.
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

fn bbox(rings: &[Vec<[f64; 2]>]) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for p in rings.iter().flatten() {
        b = [b[0].min(p[0]), b[1].min(p[1]), b[2].max(p[0]), b[3].max(p[1])];
    }
    b
}

/// Even-odd rule over every ring.
fn inside(rings: &[Vec<[f64; 2]>], x: f64, y: f64) -> bool {
    let mut odd = false;
    for ring in rings {
        let n = ring.len();
        if n < 3 {
            continue;
        }
        let mut j = n - 1;
        for i in 0..n {
            let (a, b) = (ring[i], ring[j]);
            if (a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0] {
                odd = !odd;
            }
            j = i;
        }
    }
    odd
}

impl PolygonIndex {
    pub fn new(polygons: Vec<Polygon>) -> PolygonIndex {
        let entries: Vec<Entry> = polygons.iter().map(|p| Entry { bbox: bbox(&p.rings), rings: p.rings.clone() }).collect();
        let codes = polygons.into_iter().map(|p| p.code).collect();
        let mut all = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for e in &entries {
            all = [all[0].min(e.bbox[0]), all[1].min(e.bbox[1]), all[2].max(e.bbox[2]), all[3].max(e.bbox[3])];
        }
        let side = ((entries.len() * 4) as f64).sqrt().ceil().max(1.0) as usize;
        let (cols, rows) = (side, side);
        let step = [((all[2] - all[0]) / cols as f64).max(1e-12), ((all[3] - all[1]) / rows as f64).max(1e-12)];
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); cols * rows];
        for (id, e) in entries.iter().enumerate() {
            let c0 = (((e.bbox[0] - all[0]) / step[0]) as usize).min(cols - 1);
            let c1 = (((e.bbox[2] - all[0]) / step[0]) as usize).min(cols - 1);
            let r0 = (((e.bbox[1] - all[1]) / step[1]) as usize).min(rows - 1);
            let r1 = (((e.bbox[3] - all[1]) / step[1]) as usize).min(rows - 1);
            for r in r0..=r1 {
                for c in c0..=c1 {
                    buckets[r * cols + c].push(id as u32);
                }
            }
        }
        let mut offsets = Vec::with_capacity(buckets.len() + 1);
        let mut ids = Vec::new();
        offsets.push(0);
        for b in buckets {
            ids.extend(b);
            offsets.push(ids.len() as u32);
        }
        PolygonIndex { entries, codes, origin: [all[0], all[1]], step, cols, rows, offsets, ids }
    }

    /// The index of the polygon containing the point, if any.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<usize> {
        let c = (lon - self.origin[0]) / self.step[0];
        let r = (lat - self.origin[1]) / self.step[1];
        if !(c >= 0.0 && r >= 0.0) {
            return None;
        }
        let (c, r) = ((c as usize).min(self.cols - 1), (r as usize).min(self.rows - 1));
        let b = r * self.cols + c;
        self.ids[self.offsets[b] as usize..self.offsets[b + 1] as usize].iter().map(|&id| id as usize).find(|&id| {
            let e = &self.entries[id];
            lon >= e.bbox[0] && lon <= e.bbox[2] && lat >= e.bbox[1] && lat <= e.bbox[3] && inside(&e.rings, lon, lat)
        })
    }

    pub fn code(&self, id: usize) -> &str {
        &self.codes[id]
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A tiling of `cols` × `rows` quadrilaterals over a box, their shared corners moved by up to a
/// third of a cell (a stand-in for real grid polygons in tests and benchmarks).
pub fn jittered_tiling(west: f64, south: f64, cell: f64, cols: usize, rows: usize, seed: u64) -> Vec<Polygon> {
    // A small deterministic generator (SplitMix64): no dependency for a test fixture.
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut corners = vec![[0.0; 2]; (cols + 1) * (rows + 1)];
    for r in 0..=rows {
        for c in 0..=cols {
            let inner = r > 0 && r < rows && c > 0 && c < cols;
            let (dx, dy) = if inner { ((next() - 0.5) * cell / 1.5, (next() - 0.5) * cell / 1.5) } else { (0.0, 0.0) };
            corners[r * (cols + 1) + c] = [west + c as f64 * cell + dx, south + r as f64 * cell + dy];
        }
    }
    let at = |c: usize, r: usize| corners[r * (cols + 1) + c];
    let mut out = Vec::with_capacity(cols * rows);
    for r in 0..rows {
        for c in 0..cols {
            out.push(Polygon {
                code: format!("G{r:03}{c:03}"),
                rings: vec![vec![at(c, r), at(c + 1, r), at(c + 1, r + 1), at(c, r + 1)]],
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn holes_are_outside() {
        let square = vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]];
        let hole = vec![[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]];
        let index = PolygonIndex::new(vec![Polygon { code: "A".into(), rings: vec![square, hole] }]);
        assert_eq!(index.locate(0.5, 0.5), Some(0));
        assert_eq!(index.locate(2.0, 2.0), None);
        assert_eq!(index.locate(5.0, 2.0), None);
        assert_eq!(index.code(0), "A");
    }

    proptest! {
        /// The index answers as a scan of every polygon does, for points inside and outside.
        #[test]
        fn the_index_agrees_with_a_scan(seed in 0u64..1000, points in proptest::collection::vec((-0.02f64..0.32, -0.02f64..0.27), 50)) {
            let tiles = jittered_tiling(0.0, 0.0, 0.01, 30, 25, seed);
            let index = PolygonIndex::new(tiles.clone());
            for (x, y) in points {
                let scan = tiles.iter().position(|p| inside(&p.rings, x, y));
                prop_assert_eq!(index.locate(x, y), scan, "{} {}", x, y);
            }
        }
    }
}
