import DevenvManifest
import DevenvSystem
import Foundation

/// The package mirror the host's apt is configured with, so a distro base is bootstrapped
/// from the same place (a corporate proxy, a local mirror, a snapshot) the machine already
/// trusts and can reach. Used only when the host runs the same distribution.
public enum HostMirror {
    /// One `deb` source: its URI, suites and components.
    struct Source: Equatable {
        var uri: String
        var suites: [String]
        var components: [String]
    }

    /// Reads the host's apt configuration under `root` (the real root outside tests).
    public static func detect(for family: Manifest.Distro.Family, root: String = "") -> String? {
        let release = read("\(root)/etc/os-release").map(OSRelease.init) ?? OSRelease("")
        guard release.id == family.rawValue else { return nil }
        let directory = "\(root)/etc/apt/sources.list.d"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        let deb822 = names.filter { $0.hasSuffix(".sources") }.compactMap { read("\(directory)/\($0)") }
        let oneLine = ([read("\(root)/etc/apt/sources.list")] + names.filter { $0.hasSuffix(".list") }.map { read("\(directory)/\($0)") })
            .compactMap { $0 }
        let sources = deb822.flatMap(parseDeb822) + oneLine.flatMap(parseOneLine)
        return choose(sources, codename: release.codename)
    }

    /// The mirror of the distribution's main archive: the first source that carries the
    /// host's own suite with component `main` (not a third-party repository that happens to
    /// use the same suite name, nor `-security`), else the first source at all.
    static func choose(_ sources: [Source], codename: String?) -> String? {
        let usable = sources.filter { isUsable($0.uri) }
        let main = usable.first { source in
            codename.map { source.suites.contains($0) } ?? false && source.components.contains("main")
        }
        return (main ?? usable.first).map { trimSlash($0.uri) }
    }

    /// deb822 `.sources` files: stanzas separated by blank lines, `Types: deb`, not disabled.
    static func parseDeb822(_ text: String) -> [Source] {
        var sources: [Source] = []
        for stanza in text.components(separatedBy: "\n").split(whereSeparator: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            var fields: [String: String] = [:]
            var last: String?
            for line in stanza where !line.hasPrefix("#") {
                if line.hasPrefix(" ") || line.hasPrefix("\t"), let key = last {
                    fields[key, default: ""] += " " + line.trimmingCharacters(in: .whitespaces)
                } else if let colon = line.firstIndex(of: ":") {
                    let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                    fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    last = key
                }
            }
            let words = { (key: String) in (fields[key] ?? "").split(whereSeparator: \.isWhitespace).map(String.init) }
            guard words("types").contains("deb"), (fields["enabled"] ?? "yes").lowercased() != "no",
                  let uri = words("uris").first else { continue }
            sources.append(Source(uri: uri, suites: words("suites"), components: words("components")))
        }
        return sources
    }

    /// One-line `sources.list` entries: `deb [options] URI SUITE COMPONENT…`.
    static func parseOneLine(_ text: String) -> [Source] {
        text.split(separator: "\n").compactMap { raw in
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            var words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.first == "deb" else { return nil }
            words.removeFirst()
            if words.first?.hasPrefix("[") == true {
                while let word = words.first {
                    words.removeFirst()
                    if word.hasSuffix("]") { break }
                }
            }
            guard let uri = words.first else { return nil }
            return Source(uri: uri, suites: Array(words.dropFirst().prefix(1)), components: Array(words.dropFirst(2)))
        }
    }

    /// Only what mmdebstrap can take as a plain mirror (not `cdrom:`, `tor+http:`, `mirror+file:`).
    private static func isUsable(_ uri: String) -> Bool {
        ["http://", "https://", "file://"].contains { uri.hasPrefix($0) } && uri.allSatisfy { !$0.isWhitespace }
    }

    private static func trimSlash(_ uri: String) -> String {
        var uri = uri
        while uri.hasSuffix("/") && !uri.hasSuffix("://") { uri.removeLast() }
        return uri
    }

    private static func read(_ path: String) -> String? {
        (try? FileDescriptor.readRegularFile(path, limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The two fields of `/etc/os-release` devenv needs.
struct OSRelease {
    var id: String?
    var codename: String?

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            switch parts[0] {
            case "ID": id = value
            case "VERSION_CODENAME": codename = value
            default: break
            }
        }
    }
}
