//! A throwaway `redis-server` for tests (feature `testing`): a free loopback port, a temporary
//! directory (with an append-only file, so that a restart keeps the data, as a production Redis
//! would), stopped when dropped. Needs Debian's `redis-server` on the `PATH`; installs it with
//! apt when it is missing and the tests run as root.
//!
//! ```no_run
//! # #[tokio::main] async fn main() {
//! use risk_redis::testing::RedisServer;
//! let mut redis = RedisServer::start().await;
//! let url = redis.url(); // redis://127.0.0.1:<port>
//! redis.stop().await;    // as a crash would
//! redis.restart().await; // same port, same data
//! # drop(url); }
//! ```

use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// The `redis-server` binary, installed with apt when it is missing and the tests run as
/// root (what `.ci/run` does first); otherwise a clear failure.
fn binary() -> &'static str {
    static FOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let on_path = || {
            std::process::Command::new("redis-server")
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if on_path() {
            return true;
        }
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        if root {
            let _ = std::process::Command::new("apt-get")
                .args(["update", "-qq"])
                .status();
            let _ = std::process::Command::new("apt-get")
                .args(["install", "-y", "-qq", "redis-server"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
        }
        on_path()
    });
    assert!(
        found,
        "redis-server is not installed: `apt-get install redis-server` (as `.ci/run` does)"
    );
    "redis-server"
}

/// A running `redis-server`, killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port and waits until it answers.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
        let mut server = Self {
            port: 0,
            dir,
            child: None,
        };
        // A free port can be taken by someone else before redis binds it: try another.
        for _ in 0..5 {
            server.port = free_port();
            if server.launch().await {
                return server;
            }
        }
        panic!("redis-server did not start (5 ports tried)");
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (as a crash would; the append-only file keeps what it had).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same port and directory, and waits until it answers.
    pub async fn restart(&mut self) {
        for _ in 0..3 {
            if self.launch().await {
                return;
            }
        }
        panic!("redis-server did not start again on port {}", self.port);
    }

    /// Starts it on `self.port`; `false` when it exited or did not answer within 10 s.
    async fn launch(&mut self) -> bool {
        self.stop().await;
        let mut child = spawn(self.port, self.dir.path());
        let url = self.url();
        let ready = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if ping(&url).await {
                    return true;
                }
                // It exited (the port was taken, say): no use waiting.
                if child.try_wait().ok().flatten().is_some() {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap_or(false);
        if ready {
            self.child = Some(child);
        } else {
            let _ = child.kill().await;
        }
        ready
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

fn spawn(port: u16, dir: &Path) -> Child {
    Command::new(binary())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .args([
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("redis-server does not start: {e}"))
}

async fn ping(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return false;
    };
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .is_ok()
}

/// Polls `check` every 20 ms until it holds; `false` if it does not within `within`.
pub async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    tokio::time::timeout(within, async {
        loop {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .is_ok()
}
