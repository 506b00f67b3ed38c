import DevenvManifest
import DevenvOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `[base] distro` with every input of its bootstrap resolved: the mirror actually used,
/// the package set in canonical order, the architecture. Equal inputs give an equal cache
/// key, and the key names the base image in the store. Pure: no I/O.
public struct DistroBase: Equatable, Sendable {
    /// Bump when the bootstrap changes in a way that makes old bases wrong (2: the archive
    /// snapshot in the image's labels, the layer cap an input).
    static let keyVersion = 2
    /// SOURCE_DATE_EPOCH without a snapshot: fixed, so equal inputs tend to give equal
    /// layers (mmdebstrap clamps file times to it and writes it where dpkg would write now).
    public static let defaultEpoch: Int64 = 1_700_000_000

    public enum MirrorSource: String, Sendable {
        case manifest, snapshot, host, builtIn = "built-in default"
    }

    public var family: Manifest.Distro.Family
    public var suite: String
    public var variant: String
    public var mirror: String
    public var mirrorSource: MirrorSource
    public var snapshot: String?
    /// Sorted, without duplicates.
    public var packages: [String]
    /// OCI architecture name (`amd64`, `arm64`); mmdebstrap bootstraps the host's.
    public var architecture: String
    /// The most layers the bootstrapped tree is split into (`[base] layers`).
    public var layers: Int

    /// A minbase has about 90 packages: the largest 22 get their own layer, the rest share
    /// one, and the database's comes last, leaving most of an image's 125 layers to the
    /// project's steps.
    public static let defaultLayers = Manifest.Distro.defaultLayers

    public init(family: Manifest.Distro.Family, suite: String, variant: String = Manifest.Distro.defaultVariant,
                mirror: String, mirrorSource: MirrorSource, snapshot: String? = nil, packages: [String] = [],
                architecture: String = Platform.host.architecture, layers: Int = DistroBase.defaultLayers) {
        self.family = family
        self.suite = suite
        self.variant = variant
        self.mirror = mirror
        self.mirrorSource = mirrorSource
        self.snapshot = snapshot
        self.packages = Array(Set(packages)).sorted()
        self.architecture = architecture
        self.layers = layers
    }

    /// Resolves the manifest's distro: its mirror, else the snapshot archive, else the
    /// host's mirror for the same distribution, else the distribution's default.
    public init(_ distro: Manifest.Distro, hostMirror: String?, architecture: String = Platform.host.architecture) {
        let mirror: String
        let source: MirrorSource
        if let declared = distro.mirror?.value {
            (mirror, source) = (declared, .manifest)
        } else if let snapshot = distro.snapshot?.value {
            (mirror, source) = (Self.snapshotMirror(distro.family, snapshot: snapshot), .snapshot)
        } else if let hostMirror {
            (mirror, source) = (hostMirror, .host)
        } else {
            (mirror, source) = (Self.defaultMirror(distro.family, architecture: architecture), .builtIn)
        }
        self.init(family: distro.family, suite: distro.suite, variant: distro.variantName, mirror: mirror, mirrorSource: source,
                  snapshot: distro.snapshot?.value, packages: distro.packages.map(\.value), architecture: architecture,
                  layers: distro.layerCap)
    }

    /// `debian:bookworm`
    public var name: String { "\(family.rawValue):\(suite)" }

    // MARK: Mirrors

    /// The archive as it was at `snapshot`, from the distribution's snapshot service.
    public static func snapshotMirror(_ family: Manifest.Distro.Family, snapshot: String) -> String {
        switch family {
        case .debian: return "http://snapshot.debian.org/archive/debian/\(snapshot)"
        case .ubuntu: return "http://snapshot.ubuntu.com/ubuntu/\(snapshot)"
        }
    }

    public static func defaultMirror(_ family: Manifest.Distro.Family, architecture: String) -> String {
        switch family {
        case .debian: return "http://deb.debian.org/debian"
        case .ubuntu: return ["amd64", "386"].contains(architecture) ? "http://archive.ubuntu.com/ubuntu" : "http://ports.ubuntu.com/ubuntu-ports"
        }
    }

    // MARK: Reproducibility

    /// The snapshot's time (so the layer says when its packages are from), else a constant.
    public var sourceDateEpoch: Int64 {
        snapshot.flatMap(Self.epoch(snapshot:)) ?? Self.defaultEpoch
    }

    /// Seconds since 1970 of a `YYYYMMDDTHHMMSSZ` timestamp (UTC).
    public static func epoch(snapshot: String) -> Int64? {
        let bytes = Array(snapshot.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z"),
              (bytes[0..<8] + bytes[9..<15]).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        func number(_ range: Range<Int>) -> Int32 { Int32(bytes[range].reduce(0) { $0 * 10 + Int($1 - 0x30) }) }
        var time = tm()
        time.tm_year = number(0..<4) - 1900
        time.tm_mon = number(4..<6) - 1
        time.tm_mday = number(6..<8)
        time.tm_hour = number(9..<11)
        time.tm_min = number(11..<13)
        time.tm_sec = number(13..<15)
        return Int64(timegm(&time))
    }

    // MARK: Identity in the store

    private struct KeyMaterial: Encodable {
        var v = DistroBase.keyVersion
        var family: String
        var suite: String
        var variant: String
        var mirror: String
        var snapshot: String?
        var packages: [String]
        var architecture: String
        var epoch: Int64
        var layers: Int
    }

    /// What the cached base is keyed by: every input of the bootstrap.
    public var key: Digest {
        Digest.sha256(OCIDocument.encode(KeyMaterial(family: family.rawValue, suite: suite, variant: variant, mirror: mirror,
                                                     snapshot: snapshot, packages: packages, architecture: architecture,
                                                     epoch: sourceDateEpoch, layers: layers)))
    }

    /// `localhost/devenv-base/debian:bookworm-0123456789ab`
    public var tag: String { Self.tag(name: name, key: key) }

    public static func tag(name: String, key: Digest) -> String { "localhost/devenv-base/\(name)-\(key.encoded.prefix(12))" }
}
