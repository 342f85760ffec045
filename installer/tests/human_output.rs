//! What people read: each command's human output, whole, as insta snapshots
//! (`tests/snapshots/`), with the test's paths, ports, version and durations filtered
//! (`TestEnvironment::normalize`). A change of wording shows up as a snapshot diff to review
//! and accept (`cargo insta review`, or `INSTA_UPDATE=always`), not as a `contains` that still
//! passes. The errors with their hints are in `errors.rs`.

mod support;

use insta::assert_snapshot;
use support::*;

#[test]
fn the_install_report() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.write("hooks.json", USER_HOOKS);
    let run = env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    assert_snapshot!("install_report", env.render(&run));

    // Again: nothing to change.
    let run = env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    assert_snapshot!("install_report_again", env.render(&run));
}

#[test]
fn the_dry_run() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.write("hooks.json", USER_HOOKS);
    let before = env.snapshot();
    let run = env.ok(&[
        "install",
        "-y",
        "--endpoint",
        &agent.endpoint(),
        "--dry-run",
    ]);
    assert_snapshot!("install_dry_run", env.render(&run));
    assert_eq!(env.snapshot(), before, "a dry run writes nothing");

    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    let run = env.ok(&["uninstall", "-y", "--dry-run"]);
    assert_snapshot!("uninstall_dry_run", env.render(&run));
}

#[test]
fn the_doctor_rows() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::installed(&agent);
    let run = env.ok(&["doctor"]);
    assert_snapshot!("doctor_healthy", env.render(&run));

    let run = env.ok(&["doctor", "--offline"]);
    assert_snapshot!("doctor_offline", env.render(&run));

    drop(agent);
    let run = env.run(&["doctor"]);
    assert_eq!(run.code, 1);
    assert_snapshot!("doctor_agent_down", env.render(&run));
}

#[test]
fn the_doctor_rows_before_any_install() {
    let env = TestEnv::new();
    let run = env.run(&["doctor", "--offline"]);
    assert_eq!(run.code, 1);
    assert_snapshot!("doctor_not_installed", env.render(&run));
}

#[test]
fn the_status() {
    let env = TestEnv::new();
    let run = env.run(&["status"]);
    assert_snapshot!("status_not_installed", env.render(&run));

    let agent = StandIn::start(AgentConfig::default());
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    let run = env.ok(&["status"]);
    assert_snapshot!("status_installed", env.render(&run));
}

#[test]
fn the_uninstall_report() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    let run = env.ok(&["uninstall", "-y"]);
    assert_snapshot!("uninstall_report", env.render(&run));
}
