//! The simulated developers: their devices, editors, agents, services and
//! habits. Everything is drawn from the seed; nothing is read from this
//! machine.

use azsdk_telemetry::{mac_address_hash, sha256_hex};
use azsdk_telemetry::{AgentInfo, ClientInfo, Platform};

use crate::args::{Language, PlaneType};
use crate::simulate::Rng;

/// How a developer reaches the tools in one session.
#[derive(Debug, Clone, PartialEq)]
pub enum Surface {
    /// The `azsdk` CLI in a terminal: one process per command, `direct`.
    Cli {
        /// Where the terminal runs (`CLI`, or `GitHub` in Codespaces).
        platform: Platform,
    },
    /// An MCP client running `azsdk mcp`, driven by an agent: `agent-invoked`.
    Mcp {
        /// The editor or host.
        platform: Platform,
        /// `clientName` / `clientVersion`, learned at `initialize`.
        client: ClientInfo,
        /// The agent and its model.
        agent: AgentInfo,
    },
}

impl Surface {
    /// The platform of this surface.
    pub fn platform(&self) -> &Platform {
        match self {
            Surface::Cli { platform } | Surface::Mcp { platform, .. } => platform,
        }
    }
}

/// The MCP hosts of the simulation: (platform, client, client version, agent, agent version).
const MCP_HOSTS: [(&str, &str, &str, &str, &str); 6] = [
    (
        "VSCode",
        "Visual Studio Code",
        "1.100.1",
        "GitHub Copilot",
        "1.234.0",
    ),
    (
        "VSCode",
        "Visual Studio Code - Insiders",
        "1.101.0-insider",
        "GitHub Copilot",
        "1.240.0",
    ),
    ("CLI", "claude-code", "1.0.31", "Claude Code", "1.0.31"),
    (
        "ClaudeDesktop",
        "Claude Desktop",
        "0.8.2",
        "Claude",
        "0.8.2",
    ),
    (
        "JetBrains",
        "JetBrains Rider",
        "2025.1.3",
        "GitHub Copilot",
        "1.5.48",
    ),
    (
        "GitHub",
        "GitHub Copilot coding agent",
        "1.0.0",
        "GitHub Copilot",
        "1.0.0",
    ),
];

/// How often each host is picked: VS Code is where most developers are.
const HOST_WEIGHTS: [usize; 10] = [0, 0, 0, 0, 1, 2, 2, 3, 4, 5];

const MODELS: [&str; 5] = [
    "gpt-4.1",
    "claude-sonnet-4",
    "gpt-5",
    "gemini-2.5-pro",
    "o4-mini",
];

const SERVICES: [(&str, PlaneType); 10] = [
    ("storage", PlaneType::Data),
    ("keyvault", PlaneType::Data),
    ("cosmosdb", PlaneType::Mgmt),
    ("healthdataaiservices", PlaneType::Data),
    ("eventgrid", PlaneType::Data),
    ("appconfiguration", PlaneType::Data),
    ("monitor", PlaneType::Mgmt),
    ("communication", PlaneType::Data),
    ("containerservice", PlaneType::Mgmt),
    ("ai", PlaneType::Data),
];

fn platform(name: &str) -> Platform {
    match name {
        "VSCode" => Platform::VsCode,
        "GitHub" => Platform::GitHub,
        "JetBrains" => Platform::JetBrains,
        "ClaudeDesktop" => Platform::ClaudeDesktop,
        "CLI" => Platform::Cli,
        other => Platform::custom(other),
    }
}

/// One simulated developer on one device.
#[derive(Debug, Clone)]
pub struct Persona {
    /// A label for the demo's own bookkeeping; never recorded.
    pub label: String,
    /// `macAddressHash`: SHA-256 of a made-up MAC address.
    pub mac_address_hash: String,
    /// `devDeviceId`: SHA-256 of a made-up device id.
    pub dev_device_id: String,
    /// Where this developer works, with weights.
    pub surfaces: Vec<(Surface, u32)>,
    /// The service they own.
    pub service: &'static str,
    /// Its plane.
    pub plane: PlaneType,
    /// The languages they ship.
    pub languages: Vec<Language>,
    /// Days per week with a session.
    pub days_per_week: f64,
    /// Chance that an argument is wrong on a first try.
    pub slips: f64,
    /// The day they upgrade `azsdk` (1.0.0 → 1.1.0).
    pub upgrade_day: u32,
    /// Secrets and personal data the tools receive and must never record.
    pub api_key: String,
    /// A GitHub token.
    pub github_token: String,
    /// Their e-mail address.
    pub email: String,
    /// Their tenant (recorded hashed).
    pub tenant_id: String,
    /// Their subscription (recorded hashed).
    pub subscription_id: String,
}

impl Persona {
    /// The app version this developer runs on `day`.
    pub fn version(&self, day: u32) -> &'static str {
        if day >= self.upgrade_day {
            "1.1.0"
        } else {
            "1.0.0"
        }
    }

    /// Whether this developer ever uses the CLI.
    pub fn has_cli(&self) -> bool {
        self.surfaces
            .iter()
            .any(|(surface, _)| matches!(surface, Surface::Cli { .. }))
    }
}

/// Activity levels: (how many developers, days per week).
const HABITS: [(usize, f64); 4] = [(4, 5.5), (6, 2.5), (6, 0.8), (2, 0.0)];

/// The developers of the simulation: 18 of them, from daily users to
/// one-time visitors (`days_per_week` 0: exactly one day).
pub fn personas(rng: &mut Rng, days: u32) -> Vec<Persona> {
    let mut people = Vec::new();
    for (count, days_per_week) in HABITS {
        for _ in 0..count {
            let index = people.len();
            people.push(persona(rng, index, days_per_week, days));
        }
    }
    people
}

fn persona(rng: &mut Rng, index: usize, days_per_week: f64, days: u32) -> Persona {
    let mut mac = [0u8; 6];
    for byte in &mut mac {
        *byte = rng.below(256) as u8;
    }
    mac[0] &= 0xFE; // unicast
    let (service, plane) = *rng.pick(&SERVICES);
    let mut languages = vec![*rng.pick(&Language::ALL)];
    if rng.chance(0.4) {
        let second = *rng.pick(&Language::ALL);
        if !languages.contains(&second) {
            languages.push(second);
        }
    }
    let mut surfaces = Vec::new();
    let host = MCP_HOSTS[*rng.pick(&HOST_WEIGHTS)];
    let model = *rng.pick(&MODELS);
    surfaces.push((mcp_surface(host, model), 3));
    if rng.chance(0.3) {
        let other = MCP_HOSTS[*rng.pick(&HOST_WEIGHTS)];
        let model = *rng.pick(&MODELS);
        surfaces.push((mcp_surface(other, model), 1));
    }
    if rng.chance(0.5) || index.is_multiple_of(5) {
        let terminal = if rng.chance(0.15) {
            Platform::GitHub
        } else {
            Platform::Cli
        };
        surfaces.push((Surface::Cli { platform: terminal }, 2));
    }
    let user = format!("dev{index:02}");
    Persona {
        label: user.clone(),
        mac_address_hash: mac_address_hash(mac),
        dev_device_id: sha256_hex(&rng.uuid()),
        surfaces,
        service,
        plane,
        languages,
        days_per_week,
        slips: 0.05 + rng.below(15) as f64 / 100.0,
        upgrade_day: rng.between(days as u64 / 3, days as u64 + 10) as u32,
        api_key: format!("azsdk_sk_{}", rng.hex(32)),
        github_token: format!("ghp_{}", rng.hex(36)),
        email: format!("{user}@contoso.com"),
        tenant_id: rng.uuid(),
        subscription_id: rng.uuid(),
    }
}

fn mcp_surface(host: (&str, &str, &str, &str, &str), model: &str) -> Surface {
    let (platform_name, client, client_version, agent, agent_version) = host;
    Surface::Mcp {
        platform: platform(platform_name),
        client: ClientInfo::new(client, client_version),
        agent: AgentInfo::new(agent).version(agent_version).model(model),
    }
}

/// Picks one of `persona`'s surfaces by weight.
pub fn pick_surface<'a>(rng: &mut Rng, persona: &'a Persona) -> &'a Surface {
    let total: u32 = persona.surfaces.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.below(u64::from(total)) as u32;
    for (surface, weight) in &persona.surfaces {
        if roll < *weight {
            return surface;
        }
        roll -= weight;
    }
    &persona.surfaces[0].0
}
