//! Running the real `fengqiao` binary: commands in a scratch data directory, and servers on a
//! free port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_fengqiao")
}

/// A scratch directory with its own data directory; every command runs inside it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn db(&self) -> PathBuf {
        self.data_dir().join("fengqiao.db")
    }

    /// A `fengqiao` command in this workspace, with no FENGQIAO__ variables leaking in.
    pub fn command(&self) -> Command {
        let mut cmd = self.bare_command();
        cmd.arg("--data-dir").arg(self.data_dir());
        cmd
    }

    /// Like [`Workspace::command`] but without `--data-dir`.
    pub fn bare_command(&self) -> Command {
        let mut cmd = Command::new(binary());
        cmd.current_dir(self.path()).env("RUST_LOG", "warn");
        for (key, _) in std::env::vars() {
            if key.starts_with("FENGQIAO__") {
                cmd.env_remove(key);
            }
        }
        cmd
    }

    /// Runs a command to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        Run(self.command().args(args).output().expect("run fengqiao"))
    }

    /// Runs a command with `input` on its standard input.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child =
            self.command().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        Run(child.wait_with_output().expect("wait"))
    }

    /// Starts a server on a free port (without demo data unless asked for).
    pub fn serve(&self, extra: &[&str]) -> Server {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        Server::start(self.command().args(&args))
    }

    /// Loads the division tree, one organisation and an admin over `region` with a token.
    pub fn admin_token(&self, region: &str) -> (String, String) {
        self.run(&["import", "regions"]).ok();
        let org = self.run(&["org", "add", "--name", "测试中心", "--kind", "centre", "--region", region]).ok();
        let org_id = org.stdout().split('\t').next().expect("org id").to_owned();
        self.run(&[
            "account",
            "add",
            "--login",
            "tester",
            "--name",
            "测试员",
            "--org",
            &org_id,
            "--grant",
            &format!("admin:{region}"),
        ])
        .ok();
        let token = self.run(&["account", "token", "--login", "tester"]).ok().stdout().trim().to_owned();
        (org_id, token)
    }
}

/// A finished command.
pub struct Run(pub Output);

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }

    /// Asserts success and returns self.
    pub fn ok(self) -> Run {
        assert!(
            self.0.status.success(),
            "command failed ({}):\nstdout: {}\nstderr: {}",
            self.code(),
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// Asserts failure with `code` and returns stderr.
    pub fn fails(self, code: i32) -> String {
        assert_eq!(self.code(), code, "expected exit {code}:\nstdout: {}\nstderr: {}", self.stdout(), self.stderr());
        self.stderr()
    }
}

/// A running `fengqiao serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub startup: Vec<String>,
}

impl Server {
    #[expect(clippy::zombie_processes, reason = "the child moves into Server, whose Drop kills and waits for it")]
    pub fn start(command: &mut Command) -> Server {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn server");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let errors = std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());
        let mut startup = Vec::new();
        loop {
            match received.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => {
                    let found = line.split("listening on ").nth(1).and_then(|rest| rest.split('/').nth(2)).map(str::to_owned);
                    startup.push(line);
                    if let Some(addr) = found {
                        // Keep draining stdout so the server never blocks on a full pipe.
                        std::thread::spawn(move || while received.recv().is_ok() {});
                        return Server { child, base: format!("http://{addr}"), startup };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let errors = errors.join().unwrap_or_default();
                    panic!("the server did not start:\nstdout: {startup:?}\nstderr: {errors:?}");
                }
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build();
    config.into()
}

/// GET and the (status, body).
pub fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = agent().get(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request.call().expect("GET");
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap_or_default())
}

/// POST JSON and the (status, parsed body).
pub fn post_json(agent: &ureq::Agent, url: &str, token: Option<&str>, body: &Value) -> Result<(u16, Value), ureq::Error> {
    let mut request = agent.post(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request.send_json(body)?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}
