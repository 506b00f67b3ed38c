import DevenvManifest
@testable import DevenvAdopt

/// Parses `text` as a Dockerfile named `Dockerfile`.
func parse(_ text: String) throws -> Dockerfile {
    try Dockerfile.parse(Array(text.utf8), path: "Dockerfile")
}

/// The error parsing `text` produces, or nil when it parses.
func parseError(_ text: String) -> ManifestError? {
    do {
        _ = try parse(text)
        return nil
    } catch {
        return error as? ManifestError
    }
}
