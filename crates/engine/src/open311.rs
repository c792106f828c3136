//! Use cases behind the Open311 GeoReport v2 endpoints (being built).
