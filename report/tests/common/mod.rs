//! Builds envelopes exactly as the framework writes them, with chosen times,
//! devices, sessions, tools, outcomes, durations and sample rates.

#![allow(dead_code)]

use serde_json::{json, Map, Value};

/// One event to write as an envelope line.
#[derive(Debug, Clone)]
pub struct Ev {
    pub name: &'static str,
    pub time: String,
    pub device: String,
    pub mac: String,
    pub session: String,
    pub tool: String,
    pub category: String,
    pub success: bool,
    pub duration_ms: u64,
    pub sample_rate: f64,
    pub extra: Vec<(&'static str, String)>,
}

/// A successful 1-second `azsdk_run_tests` call by device `d` at `time`.
pub fn call(time: &str, device: &str) -> Ev {
    Ev {
        name: "ToolExecuted",
        time: time.to_owned(),
        device: device.to_owned(),
        mac: format!("mac-of-{device}"),
        session: format!("session-of-{device}"),
        tool: "azsdk_run_tests".to_owned(),
        category: "testing".to_owned(),
        success: true,
        duration_ms: 1000,
        sample_rate: 100.0,
        extra: Vec::new(),
    }
}

/// `call` at noon of `day` (`YYYY-MM-DD`).
pub fn call_on(day: &str, device: &str) -> Ev {
    call(&format!("{day}T12:00:00.000000Z"), device)
}

impl Ev {
    pub fn tool(mut self, tool: &str, category: &str) -> Ev {
        self.tool = tool.to_owned();
        self.category = category.to_owned();
        self
    }
    pub fn failed(mut self, error_type: &str) -> Ev {
        self.success = false;
        self.extra.push(("errorType", error_type.to_owned()));
        self
    }
    pub fn ms(mut self, duration_ms: u64) -> Ev {
        self.duration_ms = duration_ms;
        self
    }
    pub fn session(mut self, session: &str) -> Ev {
        self.session = session.to_owned();
        self
    }
    pub fn sampled(mut self, sample_rate: f64) -> Ev {
        self.sample_rate = sample_rate;
        self
    }
    pub fn mac(mut self, mac: &str) -> Ev {
        self.mac = mac.to_owned();
        self
    }
    pub fn prop(mut self, key: &'static str, value: &str) -> Ev {
        self.extra.push((key, value.to_owned()));
        self
    }
    pub fn system(mut self, name: &'static str, event_type: &str) -> Ev {
        self.name = name;
        self.extra.push(("eventType", event_type.to_owned()));
        self
    }

    /// The envelope, shaped like `Record::to_envelope`.
    pub fn envelope(&self) -> Value {
        let mut properties = Map::new();
        let mut put = |k: &str, v: &str| {
            properties.insert(k.to_owned(), Value::String(v.to_owned()));
        };
        put("version", "1.0.0");
        put("sessionId", &self.session);
        put("eventId", "b6523abb-8b23-48f4-9395-6e0745a50d27");
        put("macAddressHash", &self.mac);
        put("devDeviceId", &self.device);
        put("platform", "VSCode");
        put("isOptedIn", "true");
        if self.name == "ToolExecuted" {
            put("toolName", &self.tool);
            put("toolCategory", &self.category);
            put("toolArgs", "{}");
        }
        for (k, v) in &self.extra {
            put(k, v);
        }
        let millis = self.duration_ms;
        let duration = format!(
            "{}.{:02}:{:02}:{:02}.{:06}",
            millis / 86_400_000,
            millis / 3_600_000 % 24,
            millis / 60_000 % 60,
            millis / 1000 % 60,
            millis % 1000 * 1000
        );
        json!({
            "ver": 1,
            "name": "Microsoft.ApplicationInsights.RemoteDependency",
            "time": self.time,
            "sampleRate": self.sample_rate,
            "tags": {
                "ai.session.id": self.session,
                "ai.user.id": self.device,
                "ai.device.type": "PC",
                "ai.cloud.role": "azsdk",
                "ai.operation.name": self.name,
            },
            "data": {"baseType": "RemoteDependencyData", "baseData": {
                "ver": 2, "name": self.name, "id": "b6523abb-8b23-48f4-9395-6e0745a50d27",
                "type": "InProc", "duration": duration, "success": self.success,
                "properties": properties,
            }}
        })
    }
}

/// The JSONL text of `events`, one envelope per line.
pub fn jsonl(events: &[Ev]) -> String {
    events
        .iter()
        .map(|e| e.envelope().to_string() + "\n")
        .collect()
}
