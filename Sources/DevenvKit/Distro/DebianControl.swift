import Foundation

/// Debian control files (`/var/lib/dpkg/status`, an archive's `Packages` index): stanzas
/// of `Field: value` lines separated by blank lines. Pure; reads only the fields the lock
/// needs and skips continuation lines.
enum DebianControl {
    /// The packages `status` says are installed, by name and architecture.
    static func installed(status: String) -> [LockedPackage] {
        stanzas(status).compactMap { fields in
            guard let name = fields["Package"], let version = fields["Version"], let architecture = fields["Architecture"],
                  fields["Status"]?.hasSuffix(" installed") == true else { return nil }
            return LockedPackage(name: name, version: version, architecture: architecture)
        }
    }

    /// `name version architecture` -> the `.deb`'s SHA-256, from a `Packages` index.
    static func checksums(index: String) -> [String: String] {
        var checksums: [String: String] = [:]
        for fields in stanzas(index) {
            guard let name = fields["Package"], let version = fields["Version"], let architecture = fields["Architecture"],
                  let sha256 = fields["SHA256"] else { continue }
            checksums[key(name, version, architecture)] = sha256
        }
        return checksums
    }

    static func key(_ name: String, _ version: String, _ architecture: String) -> String { "\(name) \(version) \(architecture)" }

    /// What a `packages` step added or changed: installed after it and not, at that
    /// version, before it.
    static func added(before: [LockedPackage], after: [LockedPackage]) -> [LockedPackage] {
        let old = Set(before.map { key($0.name, $0.version, $0.architecture) })
        return after.filter { !old.contains(key($0.name, $0.version, $0.architecture)) }
    }

    /// The first `Field: value` line of `text` (an `InRelease`'s `Date:`), outside any
    /// continuation; nil when there is none.
    static func field(_ name: String, in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("\(name):") {
            return line.dropFirst(name.utf8.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    private static let wanted: Set<Substring> = ["Package", "Version", "Architecture", "Status", "SHA256"]

    static func stanzas(_ text: String) -> [[String: String]] {
        var result: [[String: String]] = []
        var current: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty {
                if !current.isEmpty { result.append(current) }
                current = [:]
                continue
            }
            guard line.first != " ", line.first != "\t", let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon]
            guard wanted.contains(field) else { continue }
            current[String(field)] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
