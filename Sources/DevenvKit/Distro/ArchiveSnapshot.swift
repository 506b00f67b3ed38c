import DevenvOCI
import Foundation

/// The package archive a distro base was bootstrapped from, as it was then: the suite, the
/// digest and `Date` of its signed `InRelease`, and every package the bootstrap installed
/// with exact version, architecture and `.deb` checksum. The base image carries it in its
/// labels (so any project on the same base can lock it) and the lock's `[base]` records it.
/// Pure.
public struct ArchiveSnapshot: Equatable, Sendable {
    public var suite: String
    /// SHA-256 of the `InRelease` file apt verified; nil for an archive without one.
    public var inRelease: Digest?
    /// Its `Date:` field, as the archive wrote it.
    public var date: String?
    /// Sorted by name, then architecture.
    public var packages: [LockedPackage]

    /// A suite's `InRelease` is a few hundred KB.
    static let releaseLimit = 16 << 20

    public init(suite: String, inRelease: Digest?, date: String?, packages: [LockedPackage]) {
        self.suite = suite
        self.inRelease = inRelease
        self.date = date
        self.packages = packages.sorted { ($0.name, $0.architecture) < ($1.name, $1.architecture) }
    }

    /// From what a bootstrap left: dpkg's `status`, the `InRelease` apt fetched, and the
    /// `Packages` indexes the `.deb` checksums come from.
    public init(suite: String, status: String, inRelease: [UInt8]?, indexes: [String]) {
        var checksums: [String: String] = [:]
        for index in indexes { checksums.merge(DebianControl.checksums(index: index)) { first, _ in first } }
        let packages = DebianControl.installed(status: status).map { package in
            var package = package
            package.sha256 = checksums[DebianControl.key(package.name, package.version, package.architecture)]
            return package
        }
        self.init(suite: suite, inRelease: inRelease.map { Digest.sha256(Data($0)) },
                  date: inRelease.flatMap { DebianControl.field("Date", in: String(decoding: $0, as: UTF8.self)) }, packages: packages)
    }

    /// `Sat, 09 Nov 2024 10:28:45 UTC (sha256:0123456789ab)`, or what of it is known.
    public var releaseDescription: String {
        switch (date, inRelease) {
        case let (date?, digest?): return "InRelease of \(date) (\(digest.short))"
        case let (nil, digest?): return "InRelease \(digest.short)"
        case let (date?, nil): return "release of \(date)"
        case (nil, nil): return "an archive without InRelease"
        }
    }

    /// What moved from `self` (the lock) to `other` (a new bootstrap), one line each: the
    /// release, then each package with both versions.
    public func changes(to other: ArchiveSnapshot) -> [String] {
        var changes: [String] = []
        if suite != other.suite { changes.append("suite '\(Printable.escape(suite))' -> '\(Printable.escape(other.suite))'") }
        if inRelease != other.inRelease || date != other.date {
            changes.append("\(Printable.escape(releaseDescription)) -> \(Printable.escape(other.releaseDescription))")
        }
        return changes + LockComparison.packageChanges(packages, other.packages)
    }

    /// The `locked` packages a bootstrap pinned to their versions did not get: apt installs a
    /// pinned version whenever the archive serves it, so these it no longer serves (or no
    /// longer installs at all). `installed` is what the bootstrap installed.
    static func unserved(locked: [LockedPackage], installed: [LockedPackage]) -> [(locked: LockedPackage, now: LockedPackage?)] {
        let now = Dictionary(installed.map { ("\($0.name):\($0.architecture)", $0) }, uniquingKeysWith: { first, _ in first })
        return locked.compactMap { locked in
            let got = now["\(locked.name):\(locked.architecture)"]
            return got?.version == locked.version ? nil : (locked, got)
        }
    }

    // MARK: The base image's labels

    static let suiteLabel = "dev.devenv.distro.suite"
    static let releaseLabel = "dev.devenv.distro.in-release"
    static let dateLabel = "dev.devenv.distro.in-release-date"
    /// `name version architecture sha256` a line (`-` for an unknown checksum).
    static let packagesLabel = "dev.devenv.distro.installed"

    var labels: [String: String] {
        var labels = [Self.suiteLabel: suite, Self.packagesLabel: packages.map { package in
            "\(package.name) \(package.version) \(package.architecture) \(package.sha256 ?? "-")"
        }.joined(separator: "\n")]
        if let inRelease { labels[Self.releaseLabel] = inRelease.description }
        if let date { labels[Self.dateLabel] = date }
        return labels
    }

    /// The snapshot a base image's labels describe; nil for an image that has none (a base
    /// bootstrapped by an older devenv) or whose labels are not devenv's.
    init?(labels: [String: String]) {
        guard let suite = labels[Self.suiteLabel], let list = labels[Self.packagesLabel] else { return nil }
        var packages: [LockedPackage] = []
        for line in list.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 4 else { return nil }
            packages.append(LockedPackage(name: fields[0], version: fields[1], architecture: fields[2], sha256: fields[3] == "-" ? nil : fields[3]))
        }
        var release: Digest?
        if let text = labels[Self.releaseLabel] {
            guard let digest = try? Digest(parsing: text) else { return nil }
            release = digest
        }
        self.init(suite: suite, inRelease: release, date: labels[Self.dateLabel], packages: packages)
    }
}
