/// Checks of `[base] distro` and its options. The values end up as arguments of mmdebstrap
/// and in URLs, so each is held to a narrow grammar that cannot be read as an option, a
/// file name or a second `sources.list` line.
extension ValueRules {
    /// `FAMILY:SUITE`, e.g. `debian:bookworm`.
    static func distro(_ text: String) -> Result<(Manifest.Distro.Family, String), RuleError> {
        let families = Manifest.Distro.Family.allCases.map(\.rawValue).joined(separator: ", ")
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let family = Manifest.Distro.Family(rawValue: parts[0]) else {
            return .failure(RuleError("invalid distro \(quoted(text)): expected FAMILY:SUITE such as 'debian:bookworm', where FAMILY is one of \(families)"))
        }
        let suite = parts[1]
        guard let first = suite.utf8.first, first >= 0x61 && first <= 0x7A, suite.utf8.count <= 64,
              suite.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || TOMLSyntax.isDigit($0) || $0 == TOMLSyntax.minus || $0 == TOMLSyntax.dot }) else {
            return .failure(RuleError("invalid suite \(quoted(suite)) in distro \(quoted(text)): use lowercase letters, digits, '-' and '.', starting with a letter"))
        }
        return .success((family, suite))
    }

    /// An archive URL: `http://`, `https://` or `file://`, printable ASCII without spaces,
    /// quotes or brackets.
    static func mirrorProblem(_ url: String) -> String? {
        let schemes = ["http://", "https://", "file://"]
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }), url.utf8.count > scheme.utf8.count else {
            return "invalid mirror \(quoted(url)): expected an http://, https:// or file:// URL"
        }
        guard url.utf8.count <= 2048, url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !"\"'<>\\^`{|}[]".utf8.contains($0) }) else {
            return "invalid mirror \(quoted(url)): a URL of printable ASCII without spaces, quotes or brackets (percent-encode them)"
        }
        return nil
    }

    /// `YYYYMMDDTHHMMSSZ` (UTC), the form snapshot.debian.org uses in its URLs.
    static func snapshotProblem(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        let problem = "invalid snapshot \(quoted(text)): expected a UTC time as YYYYMMDDTHHMMSSZ, e.g. '20250101T000000Z'"
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z"),
              (bytes[0..<8] + bytes[9..<15]).allSatisfy(TOMLSyntax.isDigit) else { return problem }
        func number(_ range: Range<Int>) -> Int { bytes[range].reduce(0) { $0 * 10 + Int($1 - 0x30) } }
        let valid = number(0..<4) >= 1970 && (1...12).contains(number(4..<6)) && (1...31).contains(number(6..<8))
            && number(9..<11) < 24 && number(11..<13) < 60 && number(13..<15) < 60
        return valid ? nil : problem
    }

    static func variantProblem(_ text: String) -> String? {
        guard Manifest.Distro.variants.contains(text) else {
            return "invalid variant \(quoted(text)): expected one of \(Manifest.Distro.variants.joined(separator: ", "))"
        }
        return nil
    }
}
