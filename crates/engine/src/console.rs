//! Use cases the web console needs beyond the API's (being built).
