//! `fengqiao import grids`: bad GeoJSON is refused whole, naming the feature; generation works.

use crate::support::Workspace;

fn feature(code: &str, region: &str, lon: f64, lat: f64) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}","name":"网格{code}","region":"{region}"}},
            "geometry":{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{},{lat}],[{},{}],[{lon},{}],[{lon},{lat}]]]}}}}"#,
        lon + 0.005,
        lon + 0.005,
        lat + 0.005,
        lat + 0.005
    )
}

fn collection(features: &[String]) -> String {
    format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
}

fn grid_count(ws: &Workspace) -> i64 {
    let conn = rusqlite::Connection::open(ws.db()).unwrap();
    conn.query_row("SELECT COUNT(*) FROM grids", [], |r| r.get(0)).unwrap()
}

fn head(ws: &Workspace) -> String {
    ws.run(&["audit", "checkpoint"]).ok().stdout()
}

#[test]
fn bad_grid_files_change_nothing_and_name_the_feature() {
    let ws = Workspace::new();
    ws.run(&["import", "regions"]).ok();
    ws.run(&["import", "boundaries", &format!("{}/../../data/boundaries/county.geojson", env!("CARGO_MANIFEST_DIR"))]).ok();
    let before = head(&ws);
    // 路桥区 lies around 121.37 E, 28.58 N; 淳安 (330127) is far west.
    let good = feature("331004001-01", "331004001", 121.37, 28.58);
    let cases = [
        (
            "outside.geojson",
            collection(&[good.clone(), feature("331004001-02", "331004001", 118.9, 29.6)]),
            "feature 2",
            "outside county 331004",
        ),
        (
            "unknown.geojson",
            collection(&[good.clone(), feature("331004099-01", "331004099", 121.37, 28.58)]),
            "feature 2",
            "not in the division tree",
        ),
        (
            "dup.geojson",
            collection(&[good.clone(), feature("331004001-01", "331004001", 121.38, 28.58)]),
            "feature 2",
            "appears twice",
        ),
        ("broken.geojson", "{\"type\":\"FeatureCollection\",\"features\":[".to_owned(), "broken.geojson", "not a GeoJSON"),
    ];
    for (file, text, where_, why) in cases {
        std::fs::write(ws.path().join(file), text).unwrap();
        let stderr = ws.run(&["import", "grids", file]).fails(1);
        assert!(stderr.contains("grid_geojson_invalid") && stderr.contains(where_) && stderr.contains(why), "{file}: {stderr}");
        assert_eq!(grid_count(&ws), 0, "{file}: nothing may be imported");
        assert_eq!(head(&ws), before, "{file}: nothing may be journaled");
    }
    std::fs::write(ws.path().join("good.geojson"), collection(&[good, feature("331004001002-1", "331004001002", 121.38, 28.58)]))
        .unwrap();
    let out = ws.run(&["import", "grids", "good.geojson"]).ok().stdout();
    assert!(out.contains("imported 2 grids"), "{out}");
    assert_eq!(grid_count(&ws), 2);
    let stderr = ws.run(&["import", "grids", "good.geojson"]).fails(1);
    assert!(stderr.contains("already exists"), "importing twice is refused: {stderr}");
}

#[test]
fn generated_cells_cover_a_county_and_are_replaced_on_regeneration() {
    let ws = Workspace::new();
    ws.run(&["import", "regions"]).ok();
    ws.run(&["import", "boundaries", &format!("{}/../../data/boundaries/county.geojson", env!("CARGO_MANIFEST_DIR"))]).ok();
    let out = ws.run(&["import", "grids", "--generate-for", "331004", "--cell-metres", "2000"]).ok().stdout();
    assert!(out.contains("labelled as generated"), "{out}");
    let first = grid_count(&ws);
    assert!(first > 30, "路桥区 (about 270 km²) at 2 km cells: {first}");
    let out = ws.run(&["import", "grids", "--generate-for", "331004", "--cell-metres", "1000"]).ok().stdout();
    assert!(out.contains(&format!("replacing {first}")), "{out}");
    assert!(grid_count(&ws) > 3 * first, "smaller cells, more grids");
    let conn = rusqlite::Connection::open(ws.db()).unwrap();
    let unlabelled: i64 =
        conn.query_row("SELECT COUNT(*) FROM grids WHERE generated = 0 OR name NOT LIKE '%（生成）'", [], |r| r.get(0)).unwrap();
    assert_eq!(unlabelled, 0, "every generated cell is labelled");
    let stderr = ws.run(&["import", "grids", "--generate-for", "3310"]).fails(1);
    assert!(stderr.contains("not a 6-digit county"), "{stderr}");
}
