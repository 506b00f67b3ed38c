/// The owner and mode a mount gives its file or directory, written as BuildKit's `--mount`
/// options are: `uid=` and `gid=` in decimal, `mode=` in octal. The one reading of them, for
/// the manifest's secrets and for a Dockerfile's secret and cache mounts.
public struct MountOwnerFields: Equatable, Sendable {
    public var uid: UInt32?
    public var gid: UInt32?
    public var mode: UInt32?

    public static let keys = ["uid", "gid", "mode"]

    /// A value that is no number, or a mode above the limit; callers word it for their input.
    public struct Problem: Error, Equatable, Sendable {
        public let key: String
        public let value: String
        /// What the value should have been: "a number", "an octal file mode (at most 0777)".
        public let expected: String
    }

    /// Reads and removes the three keys from `fields`. `maxMode` is 0o777 for a file and
    /// 0o7777 for a directory (which may be sticky or setgid).
    public static func take(from fields: inout [String: String], maxMode: UInt32) -> Result<MountOwnerFields, Problem> {
        var owner = MountOwnerFields()
        for key in keys {
            guard let value = fields.removeValue(forKey: key) else { continue }
            let octal = key == "mode"
            guard let number = UInt32(value, radix: octal ? 8 : 10), !octal || number <= maxMode else {
                let expected = octal ? "an octal \(maxMode > 0o777 ? "" : "file ")mode (at most 0\(String(maxMode, radix: 8)))" : "a number"
                return .failure(Problem(key: key, value: value, expected: expected))
            }
            switch key {
            case "uid": owner.uid = number
            case "gid": owner.gid = number
            default: owner.mode = number
            }
        }
        return .success(owner)
    }
}
