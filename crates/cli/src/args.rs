//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "fengqiao",
    version,
    about = "枫桥 fengqiao: a case engine for grassroots governance (dispute mediation, random review, investigation orders, enterprise service, risk early warning).",
    long_about = None,
    after_help = "Start here: `fengqiao serve`, then open http://127.0.0.1:8080/.\nExit codes: 0 done, 1 error, 2 bad usage, 3 the journal failed verification."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// TOML configuration file (default: ./fengqiao.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory for the SQLite database (overrides storage.data_dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite:PATH or postgres://USER@HOST:PORT/DB (overrides storage.database).
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// A directory of programme definitions (<code>/programme.toml) to use instead of the
    /// embedded ones (overrides programmes.dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub programmes: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server. First start on SQLite creates the database and loads the regions.
    ///
    /// Example: fengqiao serve --listen 0.0.0.0:8080 --data-dir /var/lib/fengqiao
    Serve(ServeArgs),
    /// Create or upgrade the database schema (needed once per release on PostgreSQL; SQLite
    /// migrates itself at start).
    ///
    /// Example: fengqiao migrate --database postgres://fengqiao@db:5432/fengqiao
    Migrate,
    /// Import reference data: the division tree, boundary polygons, grids.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Check the journal's hash chain, or print its head for publishing.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write an online, consistent, verified copy of the SQLite database.
    ///
    /// Example: fengqiao backup /backups/fengqiao-2026-11-26.db
    Backup {
        /// The new backup file (must not exist).
        dest: PathBuf,
    },
    /// Replace the SQLite database with a backup (the server must be stopped).
    ///
    /// Example: fengqiao restore /backups/fengqiao-2026-11-26.db
    Restore {
        /// A file written by `fengqiao backup`.
        source: PathBuf,
        /// Replace an existing database (it is kept beside as fengqiao.db.replaced-<time>).
        #[arg(long)]
        force: bool,
        /// A head published earlier (SEQ:HASH) that the backup's journal must contain. Repeatable.
        #[arg(long, value_name = "SEQ:HASH")]
        checkpoint: Vec<String>,
    },
    /// Organisations (单位).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Accounts (账号), role grants and API tokens.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Run only the timer scheduler (supervision cards, automatic escalation), for deployments
    /// that keep it out of the server processes. Several workers may run on PostgreSQL: each
    /// timer still fires once.
    ///
    /// Example: fengqiao worker --database postgres://fengqiao@db:5432/fengqiao
    Worker,
    /// Programme definitions.
    #[command(subcommand)]
    Programmes(ProgrammesCommand),
    /// Cases (案件): open, act, show, list, timeline.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Dispatch (派单): replay recorded draws; handler profiles.
    #[command(subcommand)]
    Dispatch(DispatchCommand),
    /// Benchmarks that print figures beside this machine's own limits.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Make synthetic data for tests, demos and benchmarks (always labelled synthetic).
    #[command(subcommand)]
    Simulate(SimulateCommand),
    /// Vehicle-inspection review (P2): check a batch of records against the review standard.
    #[command(subcommand)]
    Inspection(InspectionCommand),
    /// Risk early warning (P7): forecasts per grid cell and their backtest on real data.
    #[command(subcommand)]
    Risk(RiskCommand),
}

#[derive(Debug, Subcommand)]
pub enum ProgrammesCommand {
    /// List the programmes in use with their case kinds.
    ///
    /// Example: fengqiao programmes list
    List,
    /// Check a directory of definitions without starting anything; exit 1 with file, line and
    /// reason on the first problem.
    ///
    /// Example: fengqiao programmes check ./programmes
    Check { dir: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Open a case as the operator. FIELDS is a JSON object of the kind's fields.
    ///
    /// Example: fengqiao case open --programme demo --kind dispute --region 330624001 '{"title":"邻里纠纷","category":"neighbour"}'
    Open {
        #[arg(long)]
        programme: String,
        #[arg(long)]
        kind: String,
        #[arg(long)]
        region: String,
        #[arg(long)]
        priority: Option<String>,
        #[arg(long, default_value = "station")]
        channel: String,
        #[arg(default_value = "{}")]
        fields: String,
    },
    /// Take an action on a case as the operator. INPUTS is a JSON object.
    ///
    /// Example: fengqiao case act YS2026-000001 accept
    Act {
        /// Case number or id.
        case: String,
        action: String,
        #[arg(default_value = "{}")]
        inputs: String,
    },
    /// Show a case (JSON).
    ///
    /// Example: fengqiao case show YS2026-000001
    Show { case: String },
    /// A case's history from the journal, and whether its stored snapshot equals the replay.
    ///
    /// Example: fengqiao case timeline YS2026-000001
    Timeline { case: String },
    /// List cases of a programme, newest first.
    ///
    /// Example: fengqiao case list --programme demo --open
    List {
        #[arg(long)]
        programme: String,
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        open: bool,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Fire the timers due now once (the scheduler does this by itself).
    ///
    /// Example: fengqiao case fire-timers
    FireTimers,
}

#[derive(Debug, Subcommand)]
pub enum DispatchCommand {
    /// Draw every automatic dispatch of a case again from its recorded inputs and seed, and show
    /// that the result is identical. Exit code 4 if any differs.
    ///
    /// Example: fengqiao dispatch replay YS2026-000001
    Replay {
        /// Case number or id.
        case: String,
        #[arg(long)]
        json: bool,
    },
    /// Set a handler's dispatch profile: duty, capacity, qualification, skills, conflicts.
    ///
    /// Example: fengqiao dispatch handler --unit ID --capacity 20 --skill labour --conflict 330624
    Handler {
        #[arg(long)]
        unit: uuid::Uuid,
        /// A person in the unit (for person dispatch).
        #[arg(long)]
        person: Option<uuid::Uuid>,
        /// Not taking new cases.
        #[arg(long)]
        off_duty: bool,
        /// Not qualified for qualification-restricted draws.
        #[arg(long)]
        unqualified: bool,
        /// Most weighted open cases at once.
        #[arg(long)]
        capacity: Option<f64>,
        /// A catalog code the handler is skilled in. Repeatable.
        #[arg(long = "skill")]
        skills: Vec<String>,
        /// A declared conflict of interest (party name, ID number, organisation id). Repeatable.
        #[arg(long = "conflict")]
        conflicts: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (overrides server.listen). Port 0 picks a free port.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Do not seed the demo data set on first start (overrides demo.seed).
    #[arg(long)]
    pub no_demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Load the division tree: the embedded Zhejiang tree, or the five CSV files in --dir.
    /// Changes (added, renamed, retired regions) are recorded in the journal.
    ///
    /// Example: fengqiao import regions --dir ./divisions-2024
    Regions {
        /// A directory with provinces.csv, cities.csv, areas.csv, streets.csv, villages.csv.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Load boundary polygons from a GeoJSON FeatureCollection (property `code`, or `gb`).
    ///
    /// Example: fengqiao import boundaries counties.geojson
    Boundaries { file: PathBuf },
    /// Load grids (网格) from a GeoJSON FeatureCollection, or generate demonstration cells.
    ///
    /// Example: fengqiao import grids luqiao-grids.geojson
    ///
    /// Example: fengqiao import grids --generate-for 331004 --cell-metres 800
    Grids {
        /// GeoJSON with properties code, name, region (9- or 12-digit), kind (optional).
        #[arg(required_unless_present = "generate_for", conflicts_with = "generate_for")]
        file: Option<PathBuf>,
        /// Cover this county (6-digit code) with generated cells, labelled as generated.
        #[arg(long, value_name = "COUNTY")]
        generate_for: Option<String>,
        /// Cell size for --generate-for, in metres.
        #[arg(long, default_value_t = 1000, requires = "generate_for")]
        cell_metres: u32,
    },
    /// Import another system's historical cases from a CSV or XLSX file, through a mapping
    /// file (docs/IMPORT.md). All or nothing: any bad row imports none, and every bad row is
    /// reported with its line and column (exit code 4).
    ///
    /// Example: fengqiao import cases --programme finance --mapping programmes/finance/imports/cfpb.toml complaints.csv
    Cases {
        /// The programme the cases belong to.
        #[arg(long)]
        programme: String,
        /// The mapping file (TOML).
        #[arg(long, value_name = "MAPPING.toml")]
        mapping: PathBuf,
        /// The export: .csv (UTF-8, header on the first line) or .xlsx (the first sheet).
        file: PathBuf,
        /// Check every row and report, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also write every bad row to this CSV file (line, column, code, message).
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Receive a batch file of vehicle-inspection records (one JSON object per line, as
    /// `simulate inspections` writes them) into the inspection programme: each is reviewed
    /// against the standard and drawn to a reviewer of another county. All or nothing: any bad
    /// line receives none and is named (exit code 4); records received before are skipped.
    ///
    /// Example: fengqiao import inspections jinhua-day.jsonl
    Inspections {
        #[arg(value_name = "FILE.jsonl")]
        file: PathBuf,
        /// Check and review every line, storing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole journal; name the first row that was edited, deleted, inserted or
    /// reordered. Exit code 3 when the chain is broken.
    ///
    /// Example: fengqiao audit verify --checkpoint 12345:9f2c...
    Verify {
        /// A head published earlier (SEQ:HASH); catches a rewritten tail. Repeatable.
        #[arg(long, value_name = "SEQ:HASH")]
        checkpoint: Vec<String>,
        /// Print the result as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Verify the chain, then print its head (sequence and hash) for publishing.
    ///
    /// Example: fengqiao audit checkpoint >> published-checkpoints.txt
    Checkpoint {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the example configuration (every key with its default and meaning).
    ///
    /// Example: fengqiao config example > fengqiao.toml
    Example,
    /// Print the effective configuration after file, environment and flags (passwords hidden).
    ///
    /// Example: FENGQIAO__SERVER__LISTEN=0.0.0.0:8080 fengqiao config show
    Show,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    ///
    /// Example: fengqiao org add --name 路桥区人民调解委员会 --kind mediation_committee --region 331004
    Add {
        #[arg(long)]
        name: String,
        /// department, station, court, mediation_committee, centre or cooperating_unit.
        #[arg(long)]
        kind: String,
        /// Region code (2 to 12 digits).
        #[arg(long)]
        region: String,
        /// Parent organisation id.
        #[arg(long)]
        parent: Option<uuid::Uuid>,
    },
    /// List organisations within a region.
    ///
    /// Example: fengqiao org list --region 331004
    List {
        #[arg(long, default_value = "33")]
        region: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account. The password, if any, is read from standard input.
    ///
    /// Example: echo 'a long passphrase' | fengqiao account add --login li.si --name 李四 --org ID --grant mediator:331004 --password-stdin
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// Organisation id.
        #[arg(long)]
        org: uuid::Uuid,
        /// ROLE:REGION or ROLE:REGION:ORG_ID. Repeatable.
        #[arg(long = "grant", value_name = "ROLE:REGION[:ORG]")]
        grants: Vec<String>,
        /// Read a password (at least 12 characters) from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Grant a role to an account.
    ///
    /// Example: fengqiao account grant --login li.si leader:3310
    Grant {
        #[arg(long)]
        login: String,
        #[arg(value_name = "ROLE:REGION[:ORG]")]
        grant: String,
    },
    /// Disable an account (its tokens stop working at once).
    ///
    /// Example: fengqiao account disable --login li.si
    Disable {
        #[arg(long)]
        login: String,
    },
    /// Enable a disabled account.
    ///
    /// Example: fengqiao account enable --login li.si
    Enable {
        #[arg(long)]
        login: String,
    },
    /// Issue an API token and print it once.
    ///
    /// Example: fengqiao account token --login li.si --label 12345热线对接 --days 365
    Token {
        #[arg(long)]
        login: String,
        #[arg(long, default_value = "cli")]
        label: String,
        /// Days until the token expires (default: never).
        #[arg(long)]
        days: Option<u32>,
    },
}

/// Which program makes the load of `bench http`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LoadTool {
    Auto,
    Wrk,
    Threads,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// HTTP: case-detail and case-list requests/s and p99 over many connections, beside the
    /// same server's bare /healthz, on a scratch database of synthetic cases (seeded once and
    /// kept in --dir).
    ///
    /// Example: fengqiao bench http --cases 1000000 --connections 128 --json
    Http {
        /// Synthetic cases in the database.
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 128)]
        connections: usize,
        /// Seconds per phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Directory of the scratch database (default: <data_dir>/bench-http, kept between runs).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The load generator: `wrk` (Debian package wrk; two event-loop threads), `threads` (one
        /// blocking client thread per connection, built in), or `auto` (wrk when installed).
        #[arg(long, value_enum, default_value_t = LoadTool::Auto)]
        tool: LoadTool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The case engine: in-memory lifecycles/s, durable actions/s with 16 clients on SQLite
    /// (p99 beside the disk's fsync p99 measured in the same run), allocation decisions/s.
    ///
    /// Example: fengqiao bench engine --json
    Engine {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Measure one figure only: memory, durable or allocation (for profiling).
        #[arg(long, value_name = "FIGURE")]
        only: Option<String>,
        /// Directory to measure in (default: a scratch directory under the data directory).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Inspection review allocation: records to least-loaded eligible reviewers of other
    /// counties of the city (issue 6), in memory on one core; batch time, decisions/s,
    /// max/mean load, own-county assignments and a replay.
    ///
    /// Example: fengqiao bench allocate --records 10000 --reviewers 1000 --json
    Allocate {
        #[arg(long, default_value_t = 10_000)]
        records: u32,
        #[arg(long, default_value_t = 1_000)]
        reviewers: u32,
        /// The city whose counties the reviewers and records are in (4 digits).
        #[arg(long, default_value = "3307")]
        city: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The risk engine (issue 7): events ingested and parsed per second, points mapped to ~700
    /// grid polygons per second on one core, the nightly fits of 700 cells × 12 categories over
    /// three years of daily history (day, week with its whistle list, month) and the trends of
    /// 8,400 weekly series on every core, and the 72-hour trace over 1.6 million position
    /// reports on SQLite (and PostgreSQL with --postgres).
    ///
    /// Example: fengqiao bench risk --postgres postgres://postgres@127.0.0.1:5432/postgres --json
    Risk {
        /// Also store and trace the position reports on a scratch database created (and dropped
        /// afterwards) on this PostgreSQL server; the URL's role must be allowed to create databases.
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// SQLite storage: durable single commits beside the disk's own fdatasync rate, 16 concurrent
    /// writers (group commit), batched import.
    ///
    /// Example: fengqiao bench store --json
    Store {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Directory to measure in (default: a scratch directory under the data directory).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// Synthetic vehicle-inspection records for the counties of a city, volumes in proportion to
    /// the counties' villages and communities in the division tree; one JSON object per line,
    /// each with `"synthetic": true` and an id starting `SIM-`.
    ///
    /// Example: fengqiao simulate inspections --city 3307 --days 30 --out jinhua-month.jsonl
    Inspections {
        /// The city (4 digits; 3307 is Jinhua).
        #[arg(long, default_value = "3307")]
        city: String,
        #[arg(long, default_value_t = 1)]
        days: u32,
        /// Records per day for the whole city.
        #[arg(long, default_value_t = 2_500)]
        per_day: u32,
        /// The first day (YYYY-MM-DD).
        #[arg(long, default_value = "2026-11-02")]
        first_day: chrono::NaiveDate,
        /// The same seed gives the same records.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum InspectionCommand {
    /// Review a batch file of inspection records (JSON lines, as `simulate inspections` writes
    /// them) against the rule set in force on each record's day: verdicts, the rules fired, and
    /// the supervision anomalies in the batch. Reads only; a bad line is named and nothing is
    /// reported.
    ///
    /// Example: fengqiao inspection review --records jinhua-month.jsonl --json
    Review {
        #[arg(long, value_name = "FILE.jsonl")]
        records: PathBuf,
        /// A rule file instead of the shipped standard (data/inspection/rules-v1.toml).
        #[arg(long, value_name = "FILE.toml")]
        rules: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Run the supervision checks over the records of a city received in a period and open a
    /// supervision case for each anomaly not found before.
    ///
    /// Example: fengqiao inspection supervise --city 3307 --from 2026-11-01 --to 2026-12-01
    Supervise {
        #[arg(long, default_value = "3307")]
        city: String,
        /// First day (Beijing calendar), inclusive.
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day, exclusive.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Report the anomalies, open nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Draw the re-check sample (复核抽查) among the passed records of a period, by a keyed hash
    /// (publish the key after the period), and give each to a senior reviewer of another county.
    ///
    /// Example: fengqiao inspection recheck --city 3307 --from 2026-11-01 --to 2026-12-01 --share 0.05 --key 2026-11-published
    Recheck {
        #[arg(long, default_value = "3307")]
        city: String,
        #[arg(long)]
        from: chrono::NaiveDate,
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Share of the passed records to draw (0 to 1).
        #[arg(long, default_value_t = 0.05)]
        share: f64,
        /// The sample key (at least 8 characters).
        #[arg(long)]
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Enter the station points a month's finished re-checks earn (a deduction for each
    /// disagreement, an award for a station re-checked without one); entered once.
    ///
    /// Example: fengqiao inspection settle-points --city 3307 --month 2026-11
    SettlePoints {
        #[arg(long, default_value = "3307")]
        city: String,
        /// YYYY-MM.
        #[arg(long)]
        month: String,
    },
    /// Enter points for a station by a rule of the scheme (the rule sets the points).
    ///
    /// Example: fengqiao inspection award-points --region 330702 --station 330702-S01 --rule hw_video_online --on 2026-11-20
    AwardPoints {
        /// The station's county (6 digits).
        #[arg(long)]
        region: String,
        #[arg(long)]
        station: String,
        #[arg(long)]
        rule: String,
        #[arg(long)]
        on: chrono::NaiveDate,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The stations of a city ranked by a month's points.
    ///
    /// Example: fengqiao inspection ranking --city 3307 --month 2026-11
    Ranking {
        #[arg(long, default_value = "3307")]
        city: String,
        #[arg(long)]
        month: String,
        #[arg(long)]
        json: bool,
    },
    /// The sub-centre evaluation: per county of the reviewers and per reviewer.
    ///
    /// Example: fengqiao inspection evaluation --city 3307 --from 2026-11-01 --to 2026-12-01
    Evaluation {
        #[arg(long, default_value = "3307")]
        city: String,
        #[arg(long)]
        from: chrono::NaiveDate,
        #[arg(long)]
        to: chrono::NaiveDate,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PullsAction {
    /// Pull this server every night into the source.
    Add {
        /// A source of data/risk/sources-v1.toml whose columns read the server's requests.
        #[arg(long, default_value = "open311_portal")]
        source: String,
        /// The server's GeoReport v2 base URL.
        #[arg(long)]
        url: String,
    },
    /// Stop pulling this server into the source.
    Remove {
        #[arg(long, default_value = "open311_portal")]
        source: String,
        #[arg(long)]
        url: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Backtest the forecasts on a history of events with a rolling origin: our model, kernel
    /// density with a cross-validated bandwidth and previous-period counts, each fitted only on
    /// the events up to --train-until and scored on the weekly origins after it: PAI and PEI at
    /// 1%, 5% and 10% of the study area, the Brier score and a reliability table (docs/RISK.md).
    ///
    /// Example: fengqiao risk backtest --events data/samples/portland-nij/portland_nij.csv --cell-size 150 --category burglary --horizon 7d --train-until 2017-02-28
    Backtest {
        /// CSV with the columns time (ISO date or date-time), lon, lat (WGS-84) and category.
        #[arg(long, value_name = "FILE.csv")]
        events: PathBuf,
        /// Square cells of this many metres.
        #[arg(long, value_name = "METRES")]
        cell_size: f64,
        /// The category to forecast (the study area counts every category).
        #[arg(long)]
        category: String,
        /// 1d (a day), 7d (a week) or 30d (a month).
        #[arg(long)]
        horizon: String,
        /// The last day of training (YYYY-MM-DD); nothing after it is used to fit anything.
        #[arg(long, value_name = "DATE")]
        train_until: chrono::NaiveDate,
        /// At most this many weekly origins (default: every one the data covers).
        #[arg(long)]
        origins: Option<usize>,
        /// The last day a scored horizon may reach (default: the data's last day); for a
        /// validation period that ends before an official scoring window.
        #[arg(long, value_name = "DATE")]
        score_until: Option<chrono::NaiveDate>,
        /// The file's own column names, as ours=theirs pairs (for published data sets):
        /// `--columns time=Date,lon=X,lat=Y,category=Category`.
        #[arg(long, value_name = "PAIRS")]
        columns: Option<String>,
        /// How the time column writes dates (a chrono format such as %m/%d/%Y); ISO by default.
        #[arg(long, value_name = "FORMAT")]
        date_format: Option<String>,
        /// Days of history each training origin needs before it (a year by default); lower it
        /// only for published sets that cover weeks (the model's yearly features then see less).
        #[arg(long, value_name = "DAYS", default_value_t = 365)]
        min_history: i32,
        /// Leave out bad rows (counted and the first few named on standard error) instead of
        /// refusing the file; for published data sets with a few blank cells.
        #[arg(long)]
        skip_bad_rows: bool,
        /// Also score hindsight maps: every event of the category in the file except the scored
        /// horizon's own, at several bandwidths. A reference for what the goals ask of any
        /// stationary map, never a forecast (it sees the years after each horizon).
        #[arg(long)]
        hindsight: bool,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Ingest a file of risk events from one of the sources of data/risk/sources-v1.toml (CSV
    /// or JSON as the source says): all or nothing (every bad row named, exit 4), events placed
    /// in the grid of their point or by their region code, ids sent before skipped, events
    /// outside every grid without a region code reported.
    ///
    /// Example: fengqiao risk ingest --source grid_patrol patrol-2026-11-26.csv
    Ingest {
        #[arg(long)]
        source: String,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Pull the service requests of an Open311 GeoReport v2 server (GET {url}/requests.json)
    /// and ingest them as the events of an Open311 source of data/risk/sources-v1.toml.
    ///
    /// Example: fengqiao risk pull-open311 --source open311_portal --url http://10.0.0.5:8080/open311/v2 --start-date 2026-11-01T00:00:00Z
    PullOpen311 {
        #[arg(long, default_value = "open311_portal")]
        source: String,
        /// The server's GeoReport v2 base URL.
        #[arg(long)]
        url: String,
        /// Only requests from this instant (RFC 3339) or day (YYYY-MM-DD, Beijing time); 90
        /// days back by default. Longer spans are asked 90 days at a time.
        #[arg(long)]
        start_date: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The whistle list (吹哨): the cells whose forecast for the horizon from --at reaches a
    /// warning level (blue, yellow, orange, red) by the level table (probability thresholds per
    /// category, a rising trend raising a level), highest first.
    ///
    /// With --county instead of --events: over the events stored for the county, opening a
    /// warning case (model channel, dispatched with its response plan) for each orange or red
    /// cell in the town of its grid (horizon 7d).
    ///
    /// Example: fengqiao risk whistle --events data/samples/portland-nij/portland_nij.csv --cell-size 300 --category vehicle_theft --horizon 30d --at 2017-03-01
    ///
    /// Example: fengqiao risk whistle --county 331004 --cell-size 300 --category dispute_labour --horizon 7d --at 2026-11-27
    ///
    /// With --county and no --category: every risk category among the county's stored events
    /// (what the nightly run does for every county; see `scheduler.nightly_hour`).
    Whistle {
        #[arg(long, value_name = "FILE.csv", required_unless_present = "county", conflicts_with = "county")]
        events: Option<PathBuf>,
        /// Whistle over the stored events of this county and open warning cases.
        #[arg(long, value_name = "COUNTY")]
        county: Option<String>,
        #[arg(long, value_name = "METRES")]
        cell_size: f64,
        /// The category to forecast (required with --events).
        #[arg(long, required_unless_present = "county")]
        category: Option<String>,
        /// 1d (a day), 7d (a week) or 30d (a month).
        #[arg(long)]
        horizon: String,
        /// The first day of the horizon; events from it on are not used.
        #[arg(long, value_name = "DATE")]
        at: chrono::NaiveDate,
        /// A level table instead of the shipped one (data/risk/levels-v1.toml).
        #[arg(long, value_name = "FILE.toml")]
        levels: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The 72-hour trace: a person's or vessel's track over the hours before a time, from
    /// position reports (AIS, Beidou, checkpoint logs: columns id or mmsi, time or
    /// basedatetime, lat, lon), and everyone who came within a distance of it meanwhile.
    ///
    /// Example: fengqiao risk trace --positions data/samples/ais-marinecadastre/ais_2022-01-03_lower_mississippi.csv --id 311050800 --at 2022-01-03T00:25:00Z --within 1000
    ///
    /// Without --positions: from the reports stored with `fengqiao risk positions` (each trace
    /// is journaled with who asked).
    Trace {
        /// A file of reports to trace in; the stored reports when absent.
        #[arg(long, value_name = "FILE.csv")]
        positions: Option<PathBuf>,
        /// The person's or vessel's identity (MMSI for AIS).
        #[arg(long)]
        id: String,
        /// The end of the trace (RFC 3339).
        #[arg(long)]
        at: chrono::DateTime<chrono::Utc>,
        #[arg(long, default_value_t = 72)]
        hours: i64,
        /// Contacts: within this many metres at the same time.
        #[arg(long, default_value_t = 500.0)]
        within: f64,
        /// Where the subject's place cannot be interpolated (a checkpoint passed once): reports
        /// this many minutes apart count as at the same time (0 to 30).
        #[arg(long, default_value_t = fq_risk::trace::DEFAULT_SAME_TIME_MINUTES)]
        same_minutes: i64,
        #[arg(long)]
        json: bool,
    },
    /// Store a CSV of position reports (AIS, Beidou terminals, checkpoint logs; the columns of
    /// `risk trace`) for traces: all or nothing, a subject's report at a time sent before skipped.
    ///
    /// Example: fengqiao risk positions --source ais --region 330903 putuo-ais-2026-11-26.csv
    Positions {
        /// Where the reports come from (ais, beidou, checkpoint...).
        #[arg(long)]
        source: String,
        /// The county the feed serves (six digits): its risk analysts trace with these reports
        /// in the console. Without it only operators trace with them.
        #[arg(long, value_name = "COUNTY")]
        region: Option<String>,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The Open311 servers the nightly run pulls, kept in the database so that every server
    /// process pulls the same ones: listed without an action; added or removed here, or by the
    /// province's administrators on the console's /admin/open311 page; each change journaled.
    ///
    /// Example: fengqiao risk open311-pulls add --source open311_portal --url http://10.0.0.5:8080/open311/v2
    Open311Pulls {
        #[command(subcommand)]
        action: Option<PullsAction>,
        #[arg(long)]
        json: bool,
    },
    /// Run the nightly risk run now, as the scheduler does after `scheduler.nightly_hour`: the
    /// Open311 pulls (the configuration's and the database's), then the whistle for every
    /// county and category with stored events. Once per day across every process: a day
    /// claimed or finished by another is left alone.
    ///
    /// Example: fengqiao risk night --day 2026-11-27
    Night {
        /// The day (Beijing time) whose night to run; today by default.
        #[arg(long)]
        day: Option<chrono::NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// Fill a county's track record of forecasts (预测检验档案) for the periods before today, as
    /// the nightly run would have: each forecast (today less one horizon, two, ...) fitted on
    /// the events stored before its day and checked against the events of its horizon, every
    /// category summed and each alone. For a county whose history was imported, or whose
    /// nightly run began later; the heat map lists the stored checks beside today's forecast.
    /// A period already in the record keeps its check (made the night it ended, on the
    /// forecast shown then) unless --replace.
    ///
    /// Example: fengqiao risk check-forecasts --county 331004 --horizon 7d
    CheckForecasts {
        #[arg(long, value_name = "COUNTY")]
        county: String,
        /// 1d (a day), 7d (a week) or 30d (a month).
        #[arg(long)]
        horizon: String,
        /// How many periods back from today (1 to 53; each fits every category once); by
        /// default as many as the heat map lists: 14 days, 13 weeks or 12 months.
        #[arg(long)]
        periods: Option<usize>,
        /// Check again the periods already in the record, on the events stored now.
        #[arg(long)]
        replace: bool,
        #[arg(long)]
        json: bool,
    },
    /// Convert the NIJ Real-Time Crime Forecasting Challenge's Portland history (EPSG:2913
    /// feet) to the backtest's CSV.
    ///
    /// Example: fengqiao risk convert-nij crimes_bur.csv --category burglary --out burglary.csv
    ConvertNij {
        file: PathBuf,
        #[arg(long)]
        category: String,
        #[arg(long, value_name = "FILE.csv")]
        out: PathBuf,
    },
}
