//! The real `dev-server` binary as a child process on a free port, its
//! stdout captured line by line; killed when dropped, pass or fail.
//! `DEV_SERVER_BIN` names another build of it (scripts/bench uses release).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub struct DevServer {
    child: Child,
    pub base_url: String,
    /// Stdout up to and including the `server.listening` event.
    startup_lines: Vec<String>,
    /// Stdout after it: the log of the server at work.
    lines: Arc<Mutex<Vec<String>>>,
}

impl DevServer {
    /// Starts the binary with `env` (plus a free port) and waits for its
    /// `server.listening` log event (its `url` is the base URL). `LOG_LEVEL`
    /// defaults to `warn` unless `env` sets it; that event passes any level.
    pub fn start(env: &[(&str, String)]) -> Self {
        // `DEV_SERVER_BIN` lets scripts/bench race a release build through the same checks.
        let binary = std::env::var("DEV_SERVER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_dev-server").to_owned());
        let mut command = Command::new(binary);
        command.env("LOG_LEVEL", "warn");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .env("DEV_SERVER_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("dev-server starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut startup_lines = Vec::new();
        let base_url = loop {
            let mut line = String::new();
            let read = stdout.read_line(&mut line).unwrap();
            assert!(
                read > 0,
                "dev-server exited before listening; it logged {startup_lines:?}"
            );
            startup_lines.push(line.trim_end().to_owned());
            if let Some(url) = listening_url(&line) {
                break url;
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            base_url,
            startup_lines,
            lines,
        }
    }

    /// Sends SIGTERM (what `docker stop` sends) and waits up to `patience`
    /// for the process to exit; `None` if it is still running.
    pub fn terminate(&mut self, patience: std::time::Duration) -> Option<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        assert!(
            sent.is_ok_and(|status| status.success()),
            "kill -TERM {}",
            self.child.id()
        );
        let deadline = std::time::Instant::now() + patience;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// Every line the server has logged since it listens.
    pub fn log_lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Everything the server has written to stdout so far, from its first
    /// line (startup and the `server.listening` event) on.
    pub fn stdout_lines(&self) -> Vec<String> {
        let mut all = self.startup_lines.clone();
        all.extend(self.log_lines());
        all
    }
}

/// The `url` of a `server.listening` log line (stdout carries only JSON
/// log lines; that one says where the server listens).
fn listening_url(line: &str) -> Option<String> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    (event["event"] == "server.listening")
        .then(|| event["url"].as_str().map(str::to_owned))
        .flatten()
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
