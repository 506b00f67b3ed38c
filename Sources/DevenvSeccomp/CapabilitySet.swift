/// A set of capabilities, stored as the kernel's 64-bit mask (the `CapBnd:` format of
/// /proc/self/status).
public struct CapabilitySet: Hashable, Sendable, Codable, Sequence, ExpressibleByArrayLiteral, CustomStringConvertible {
    public private(set) var bitmask: UInt64

    public init(bitmask: UInt64) { self.bitmask = bitmask }

    /// Encoded as the mask alone, as the kernel and /proc show it.
    public init(from decoder: any Decoder) throws { bitmask = try decoder.singleValueContainer().decode(UInt64.self) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(bitmask)
    }

    public init<S: Sequence>(_ capabilities: S) where S.Element == Capability {
        bitmask = capabilities.reduce(0) { $0 | $1.bit }
    }

    public init(arrayLiteral elements: Capability...) { self.init(elements) }

    public static let empty = CapabilitySet(bitmask: 0)
    public static let all = CapabilitySet(Capability.allCases)

    /// Docker's default set (moby `daemon/pkg/oci/caps/defaults.go`): mask 0x00000000a80425fb.
    public static let dockerDefault = CapabilitySet([
        .chown, .dacOverride, .fowner, .fsetid, .kill, .setgid, .setuid, .setpcap,
        .netBindService, .netRaw, .sysChroot, .mknod, .auditWrite, .setfcap,
    ])

    /// Parses names as `--cap-add` takes them; throws on the first unknown name.
    public static func parse<S: Sequence>(names: S) throws -> CapabilitySet where S.Element == String {
        CapabilitySet(try names.map(Capability.parse))
    }

    public func contains(_ capability: Capability) -> Bool { bitmask & capability.bit != 0 }

    public mutating func insert(_ capability: Capability) { bitmask |= capability.bit }

    public mutating func remove(_ capability: Capability) { bitmask &= ~capability.bit }

    public func union(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(bitmask: bitmask | other.bitmask) }

    public func subtracting(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(bitmask: bitmask & ~other.bitmask) }

    public var capabilities: [Capability] { Capability.allCases.filter(contains) }

    public func makeIterator() -> IndexingIterator<[Capability]> { capabilities.makeIterator() }

    /// Sixteen hex digits, as /proc/self/status prints it.
    public var hexMask: String {
        let digits = String(bitmask, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public var description: String { capabilities.map(\.name).joined(separator: ",") }
}
