//! What the stand-in agent is configured to be: auth mode, policies, quota, `/health` shape.

use std::collections::BTreeMap;

/// A regex policy evaluated by `check_policy` (input) or `check_output` (output block list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `policy_id`, e.g. `sys_sqli_drop_table`; also `blocked_by`.
    pub id: String,
    /// `policy_name` in `policy_matches`.
    pub name: String,
    /// e.g. `security-sqli` (reported by `list_policies`).
    pub category: String,
    /// Regex (Rust `regex` syntax, which accepts the agent's RE2 patterns).
    pub pattern: String,
    /// `low` / `medium` / `high` / `critical`.
    pub risk_level: String,
    /// `block_reason` when this policy blocks.
    pub reason: String,
    /// `allow_override` in `policy_matches`; `override_available` when it blocks.
    pub allow_override: bool,
    /// `policy_version` in `policy_matches`.
    pub version: u32,
}

impl Policy {
    pub fn new(id: &str, pattern: &str, risk_level: &str, reason: &str) -> Self {
        Policy {
            id: id.to_string(),
            name: id.to_string(),
            category: "custom".to_string(),
            pattern: pattern.to_string(),
            risk_level: risk_level.to_string(),
            reason: reason.to_string(),
            allow_override: false,
            version: 1,
        }
    }

    pub fn with_name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    pub fn with_category(mut self, category: &str) -> Self {
        self.category = category.to_string();
        self
    }

    pub fn with_allow_override(mut self, allow: bool) -> Self {
        self.allow_override = allow;
        self
    }

    pub fn with_version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }
}

/// The seeded input policies (reference §5), in evaluation order.
pub fn default_policies() -> Vec<Policy> {
    const SQLI: &str = "Detected SQL injection pattern";
    vec![
        Policy::new("sys_sqli_drop_table", r"(?i)\bDROP\s+TABLE\b", "high", SQLI)
            .with_name("DROP TABLE Statement")
            .with_category("security-sqli")
            .with_allow_override(true),
        Policy::new(
            "sys_sqli_stacked_drop",
            r"(?i);\s*DROP\s+(TABLE|DATABASE)\b",
            "high",
            SQLI,
        )
        .with_name("Stacked DROP Statement")
        .with_category("security-sqli")
        .with_allow_override(true),
        Policy::new(
            "sys_sqli_union_select",
            r"(?i)\bUNION\s+(ALL\s+)?SELECT\b",
            "high",
            SQLI,
        )
        .with_name("UNION SELECT Injection")
        .with_category("security-sqli")
        .with_allow_override(true),
        Policy::new(
            "sys_sqli_or_1_eq_1",
            r"(?i)\bOR\s+1\s*=\s*1\b",
            "high",
            SQLI,
        )
        .with_name("OR 1=1 Tautology")
        .with_category("security-sqli")
        .with_allow_override(true),
        Policy::new(
            "sys_dangerous_destructive_fs",
            r"(rm\s+-rf\s+/|rm\s+-rf\s+~|dd\s+if=|mkfs\b|>\s*/dev/sd|chmod\s+-R\s+777\s+/)",
            "critical",
            "Block destructive filesystem operations",
        )
        .with_name("Destructive Filesystem Operations")
        .with_category("security-dangerous"),
    ]
}

/// The seeded output redaction policies: `sys_pii_ssn`.
pub fn default_redaction_policies() -> Vec<Policy> {
    vec![Policy::new(
        "sys_pii_ssn",
        r"\b(\d{3})[- ](\d{2})[- ](\d{4})\b",
        "high",
        "Social Security Number detected",
    )
    .with_name("US Social Security Number")
    .with_category("pii-us")]
}

/// How `GET /health` (and the agent's age) looks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealthMode {
    /// Platform 9.11 shape with `plugin_compatibility.min_plugin_version.codex`.
    Current { min_codex_version: String },
    /// Early-2026 agent: `{status, service, timestamp, version:"1.0.0"}` and no
    /// `/api/v1/mcp-server` (404).
    LegacyEarly2026,
    /// Current shape with `status: "starting"`.
    Starting,
}

impl Default for HealthMode {
    fn default() -> Self {
        HealthMode::Current {
            min_codex_version: "1.4.0".to_string(),
        }
    }
}

/// Configuration of one stand-in agent. `Default` = self-hosted community mode (no
/// credentials), the seeded policies, no quota, current `/health`.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Port to bind on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// `Some((client_id, client_secret))`: require `Authorization: Basic base64(id:secret)`.
    pub auth: Option<(String, String)>,
    /// `Some(list)`: an `X-User-Token` not in the list → 401. `None`: any token accepted.
    pub valid_user_tokens: Option<Vec<String>>,
    /// Input policies for `check_policy`, evaluated in order.
    pub policies: Vec<Policy>,
    /// Output redaction policies for `check_output` (PII masking).
    pub redaction_policies: Vec<Policy>,
    /// Output block policies for `check_output` (`allowed:false`).
    pub output_block_policies: Vec<Policy>,
    /// `policies_evaluated` in check_policy / check_output results.
    pub policies_evaluated: u64,
    /// Active overrides: policy_id → override id.
    pub active_overrides: BTreeMap<String, String>,
    /// Every check_policy answers the read-only-posture block.
    pub read_only_posture: bool,
    /// After this many `tools/call` requests, answer the 429 `daily_quota` envelope.
    pub daily_quota: Option<u32>,
    /// `resets_at` of the quota envelope (None = next UTC midnight).
    pub quota_resets_at: Option<String>,
    /// `Retry-After` seconds of the quota answer (None = seconds until next UTC midnight).
    pub quota_retry_after: Option<u64>,
    /// `/health` shape.
    pub health: HealthMode,
    /// `endpoint` in registration answers (None: `https://try.getaxonflow.com`).
    pub registration_endpoint: Option<String>,
    /// Registration answers 429 (the per-IP hourly limit).
    pub registration_rate_limited: bool,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            port: 0,
            auth: None,
            valid_user_tokens: None,
            policies: default_policies(),
            redaction_policies: default_redaction_policies(),
            output_block_policies: Vec::new(),
            policies_evaluated: 93,
            active_overrides: BTreeMap::new(),
            read_only_posture: false,
            daily_quota: None,
            quota_resets_at: None,
            quota_retry_after: None,
            health: HealthMode::default(),
            registration_endpoint: None,
            registration_rate_limited: false,
        }
    }
}

impl AgentConfig {
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// community-saas / enterprise mode: Basic credentials required.
    pub fn with_basic_auth(mut self, client_id: &str, client_secret: &str) -> Self {
        self.auth = Some((client_id.to_string(), client_secret.to_string()));
        self
    }

    pub fn with_valid_user_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.valid_user_tokens = Some(tokens.into_iter().map(Into::into).collect());
        self
    }

    /// Replaces the input policies.
    pub fn with_policies(mut self, policies: Vec<Policy>) -> Self {
        self.policies = policies;
        self
    }

    /// Appends an input policy (evaluated after the existing ones).
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policies.push(policy);
        self
    }

    /// No input policy at all: every check_policy is allowed (an admin disabled them).
    pub fn without_policies(mut self) -> Self {
        self.policies.clear();
        self
    }

    pub fn with_redaction_policies(mut self, policies: Vec<Policy>) -> Self {
        self.redaction_policies = policies;
        self
    }

    pub fn with_output_block_policy(mut self, policy: Policy) -> Self {
        self.output_block_policies.push(policy);
        self
    }

    pub fn with_policies_evaluated(mut self, n: u64) -> Self {
        self.policies_evaluated = n;
        self
    }

    pub fn with_active_override(mut self, policy_id: &str, override_id: &str) -> Self {
        self.active_overrides
            .insert(policy_id.to_string(), override_id.to_string());
        self
    }

    pub fn with_read_only_posture(mut self) -> Self {
        self.read_only_posture = true;
        self
    }

    pub fn with_daily_quota(mut self, limit: u32) -> Self {
        self.daily_quota = Some(limit);
        self
    }

    pub fn with_quota_resets_at(mut self, rfc3339: &str) -> Self {
        self.quota_resets_at = Some(rfc3339.to_string());
        self
    }

    pub fn with_quota_retry_after(mut self, secs: u64) -> Self {
        self.quota_retry_after = Some(secs);
        self
    }

    pub fn with_health(mut self, health: HealthMode) -> Self {
        self.health = health;
        self
    }

    /// Current `/health` shape with this `min_plugin_version.codex`.
    pub fn with_min_codex_version(mut self, version: &str) -> Self {
        self.health = HealthMode::Current {
            min_codex_version: version.to_string(),
        };
        self
    }
}
