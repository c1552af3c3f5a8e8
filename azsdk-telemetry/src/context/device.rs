//! Device identity: the shared developer-tools device id and the MAC address
//! hash, both sent as SHA-256 so dashboards can join with other Microsoft
//! developer tools without ever seeing the raw values.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `value`.
///
/// ```
/// assert_eq!(
///     azsdk_telemetry::sha256_hex("abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_hex(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        use std::fmt::Write;
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// `macAddressHash` of a MAC address given as six bytes: upper-case hex
/// digits without separators, SHA-256, lower-case hex — as the existing
/// Azure developer tools compute it.
///
/// ```
/// use azsdk_telemetry::mac_address_hash;
/// assert_eq!(
///     mac_address_hash([0x00, 0x11, 0x22, 0xAA, 0xBB, 0xCC]),
///     "660c8cb054aa34ae74a263d9bd5d1683c4c12965eedabb5acaf21f3286d0ba7e"
/// );
/// ```
pub fn mac_address_hash(mac: [u8; 6]) -> String {
    let digits: String = mac.iter().map(|byte| format!("{byte:02X}")).collect();
    sha256_hex(&digits)
}

/// The MAC address of the first interface that is up and not loopback, in
/// interface-index order. `None` when there is none or it cannot be read.
pub(crate) fn primary_mac_address() -> Option<[u8; 6]> {
    imp::primary_mac_address()
}

#[cfg(target_os = "linux")]
mod imp {
    use super::parse_mac;

    const IFF_UP: u32 = 0x1;
    const IFF_LOOPBACK: u32 = 0x8;

    /// Reads `/sys/class/net`: no dependency and no privileges needed.
    pub(super) fn primary_mac_address() -> Option<[u8; 6]> {
        let mut candidates = Vec::new();
        for entry in std::fs::read_dir("/sys/class/net").ok()?.flatten() {
            let dir = entry.path();
            let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
            let Some(flags) = read("flags").and_then(|text| {
                u32::from_str_radix(text.trim().trim_start_matches("0x"), 16).ok()
            }) else {
                continue;
            };
            let index = read("ifindex").and_then(|text| text.trim().parse::<u32>().ok());
            let mac = read("address").and_then(|text| parse_mac(text.trim()));
            if let (Some(index), Some(mac)) = (index, mac) {
                candidates.push((index, flags, mac));
            }
        }
        super::select_interface(candidates.into_iter().map(|(index, flags, mac)| {
            (index, flags & IFF_UP != 0, flags & IFF_LOOPBACK != 0, mac)
        }))
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    /// The first non-loopback interface with an address, as the platform lists them.
    pub(super) fn primary_mac_address() -> Option<[u8; 6]> {
        mac_address::get_mac_address()
            .ok()
            .flatten()
            .map(|mac| mac.bytes())
    }
}

/// Picks the interface with the lowest index among those that are up, not
/// loopback, and have a non-zero address.
fn select_interface(
    interfaces: impl Iterator<Item = (u32, bool, bool, [u8; 6])>,
) -> Option<[u8; 6]> {
    interfaces
        .filter(|(_, up, loopback, mac)| *up && !*loopback && mac.iter().any(|b| *b != 0))
        .min_by_key(|(index, ..)| *index)
        .map(|(.., mac)| mac)
}

/// Parses `00:11:22:aa:bb:cc` (or with `-`).
fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut bytes = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for byte in &mut bytes {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(bytes)
}

/// Where Microsoft developer tools share their device id on this platform
/// (Windows keeps it in the registry instead: `None`).
///
/// Linux: `$XDG_CACHE_HOME/Microsoft/DeveloperTools/deviceid`, else
/// `~/.cache/Microsoft/DeveloperTools/deviceid`; macOS:
/// `~/Library/Application Support/Microsoft/DeveloperTools/deviceid`.
pub(crate) fn device_id_path() -> Option<PathBuf> {
    let home = dirs::home_dir();
    if cfg!(target_os = "macos") {
        return Some(home?.join("Library/Application Support/Microsoft/DeveloperTools/deviceid"));
    }
    if cfg!(windows) {
        return None;
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.map(|home| home.join(".cache")))?;
    Some(cache.join("Microsoft/DeveloperTools/deviceid"))
}

/// Reads the device id at `path`, or creates it: a lower-case v4 UUID with
/// no trailing newline, written to a temporary file and renamed so a
/// concurrent reader never sees half of it. A present but malformed file is
/// left alone and its content used as it is (another tool owns it).
pub(crate) fn read_or_create_device_id(path: &Path) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(existing) if !existing.trim().is_empty() => return Ok(existing.trim().to_owned()),
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let id = uuid::Uuid::new_v4().to_string();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&temporary, &id)?;
    // Another process may have created it meanwhile: its id wins.
    match std::fs::hard_link(&temporary, path) {
        Ok(()) => {
            let _ = std::fs::remove_file(&temporary);
            Ok(id)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&temporary);
            Ok(std::fs::read_to_string(path)?.trim().to_owned())
        }
        Err(_) => {
            std::fs::rename(&temporary, path)?;
            Ok(id)
        }
    }
}

/// The raw shared device id of this machine, read or created where the
/// platform keeps it.
pub(crate) fn shared_device_id() -> Option<String> {
    #[cfg(windows)]
    {
        windows_device_id()
    }
    #[cfg(not(windows))]
    {
        read_or_create_device_id(&device_id_path()?).ok()
    }
}

#[cfg(windows)]
fn windows_device_id() -> Option<String> {
    use winreg::enums::HKEY_CURRENT_USER;
    let (key, _) = winreg::RegKey::predef(HKEY_CURRENT_USER)
        .create_subkey("SOFTWARE\\Microsoft\\DeveloperTools")
        .ok()?;
    if let Ok(existing) = key.get_value::<String, _>("deviceid") {
        if !existing.trim().is_empty() {
            return Some(existing.trim().to_owned());
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    key.set_value("deviceid", &id).ok()?;
    Some(id)
}

/// Hashed identity of this device: (`macAddressHash`, `devDeviceId`), with
/// `N/A` for what cannot be had.
pub(crate) fn detect_identity() -> (String, String) {
    let mac =
        primary_mac_address().map_or_else(|| super::NOT_AVAILABLE.to_owned(), mac_address_hash);
    let device =
        shared_device_id().map_or_else(|| super::NOT_AVAILABLE.to_owned(), |id| sha256_hex(&id));
    (mac, device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_up_non_loopback_interface_by_index_wins() {
        let lo = [0u8; 6];
        let a = [2, 0, 0, 0, 0, 1];
        let b = [2, 0, 0, 0, 0, 2];
        let chosen = select_interface(
            [
                (1, true, true, lo),
                (3, true, false, b),
                (2, false, false, a),
                (4, true, false, [0; 6]),
            ]
            .into_iter(),
        );
        assert_eq!(chosen, Some(b));
        assert_eq!(select_interface([(1, true, true, lo)].into_iter()), None);
    }

    #[test]
    fn mac_addresses_parse_with_either_separator() {
        assert_eq!(
            parse_mac("00:11:22:aa:BB:cc"),
            Some([0, 0x11, 0x22, 0xaa, 0xbb, 0xcc])
        );
        assert_eq!(
            parse_mac("00-11-22-aa-bb-cc"),
            Some([0, 0x11, 0x22, 0xaa, 0xbb, 0xcc])
        );
        assert_eq!(parse_mac("00:11:22:aa:bb"), None);
        assert_eq!(parse_mac("00:11:22:aa:bb:cc:dd"), None);
        assert_eq!(parse_mac("zz:11:22:aa:bb:cc"), None);
    }

    #[test]
    fn the_device_id_is_created_once_in_the_shared_format_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Microsoft/DeveloperTools/deviceid");
        let created = read_or_create_device_id(&path).unwrap();
        let raw = std::fs::read_to_string(&path).unwrap();
        assert_eq!(raw, created, "no trailing newline");
        let parsed = uuid::Uuid::parse_str(&raw).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(raw, raw.to_lowercase());
        assert_eq!(read_or_create_device_id(&path).unwrap(), created);
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn an_existing_device_id_of_another_tool_is_used_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deviceid");
        std::fs::write(&path, "6f1c6a4e-2b0f-4f6e-9b7a-2f7a0c9d8e11\n").unwrap();
        assert_eq!(
            read_or_create_device_id(&path).unwrap(),
            "6f1c6a4e-2b0f-4f6e-9b7a-2f7a0c9d8e11"
        );
    }
}
