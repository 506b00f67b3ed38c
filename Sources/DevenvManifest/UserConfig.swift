/// `~/.config/devenv/config.toml`: the user's own settings, across projects. Today one:
///
///     [store]
///     max-size = "20GB"   # or "off"; the automatic budget after builds and pulls
///
/// Parsed with the manifest's TOML parser, so every mistake is a `path:line:column` error.
public struct UserConfig: Equatable, Sendable {
    public enum Budget: Equatable, Sendable {
        /// Not written: devenv's default budget.
        case automatic
        case off
        case bytes(Int64)
    }

    public var storeMaxSize: Budget = .automatic

    public init(storeMaxSize: Budget = .automatic) { self.storeMaxSize = storeMaxSize }

    /// - Throws: `ManifestError` with every problem found.
    public static func parse(_ bytes: [UInt8], path: String) throws -> UserConfig {
        let root = try TOML.parse(bytes, path: path)
        var config = UserConfig()
        var diagnostics: [Diagnostic] = []
        for entry in root.entries {
            guard entry.key == "store" else {
                diagnostics.append(Diagnostic("unknown key '\(TextEscaping.escape(entry.key, limit: 80))' (known: store)", at: entry.keyLocation, width: entry.keyWidth))
                continue
            }
            guard case let .table(store) = entry.node.value else {
                diagnostics.append(Diagnostic("store must be a table, found \(entry.node.value.typeDescription)", at: entry.node.location, width: entry.node.width))
                continue
            }
            for setting in store.entries {
                guard setting.key == "max-size" else {
                    diagnostics.append(Diagnostic("unknown key 'store.\(TextEscaping.escape(setting.key, limit: 80))' (known: store.max-size)",
                                                  at: setting.keyLocation, width: setting.keyWidth))
                    continue
                }
                switch setting.node.value {
                case let .string(text) where text.lowercased() == "off":
                    config.storeMaxSize = .off
                case let .string(text):
                    if let size = ByteSize.parse(text) {
                        config.storeMaxSize = .bytes(size)
                    } else {
                        diagnostics.append(Diagnostic("store.max-size: '\(TextEscaping.escape(text, limit: 80))' is not a size (e.g. \"10GB\", \"512MiB\", or \"off\")",
                                                      at: setting.node.location, width: setting.node.width))
                    }
                case let .integer(bytes) where bytes >= 0:
                    config.storeMaxSize = .bytes(bytes)
                default:
                    diagnostics.append(Diagnostic("store.max-size must be a size such as \"10GB\" or a number of bytes, found \(setting.node.value.typeDescription)",
                                                  at: setting.node.location, width: setting.node.width))
                }
            }
        }
        guard diagnostics.isEmpty else {
            var error = ManifestError(path: path, diagnostics: diagnostics)
            error.attachSource(bytes)
            throw error
        }
        return config
    }
}

/// Sizes as people write them: `10GB`, `1.5 GiB`, `512MiB`, `800k`, `4096` (bytes).
/// Decimal units are powers of 1000 (as `devenv df` prints), `…iB` powers of 1024.
public enum ByteSize {
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingWhitespace()
        let number = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(number.count).trimmingWhitespace().lowercased()
        guard let value = Double(number), value >= 0 else { return nil }
        let multipliers: [String: Double] = [
            "": 1, "b": 1,
            "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
            "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824, "tib": 1_099_511_627_776,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let bytes = value * multiplier
        guard bytes < 9e18 else { return nil }
        return Int64(bytes.rounded())
    }
}

private extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
