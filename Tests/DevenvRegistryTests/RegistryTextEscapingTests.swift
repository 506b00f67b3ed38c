@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import Foundation
import Testing

/// Issue 11 item 11, the registry's side: terminal control sequences (ESC, BEL, CSI, OSC)
/// in manifests, headers, error bodies and references reach the stderr of a real
/// `devenv pull` escaped, never as raw bytes.
@Suite struct RegistryTextEscapingTests {
    /// CSI (colour, clear screen), OSC (window title, ended by BEL) and a bare BEL.
    static let hostile = "\u{1b}[31m\u{1b}[2J\u{1b}]0;pwned\u{07}\u{9b}1m"

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var rule: HostileRegistry.Rule
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "layer media type in the manifest") { request, registry in
            guard request.path.hasSuffix("/manifests/1") else { return nil }
            let layer = Descriptor(mediaType: "application/x-\(hostile)", digest: registry.layerDigest, size: 100)
            let config = Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(registry.config), size: Int64(registry.config.count))
            return .respond(status: 200, headers: ["Content-Type": MediaType.imageManifest], body: OCIDocument.encode(ImageManifest(config: config, layers: [layer])))
        },
        Case(name: "digest and annotations in the manifest") { request, _ in
            guard request.path.hasSuffix("/manifests/1") else { return nil }
            let json = String(decoding: try! JSONEncoder().encode(hostile), as: UTF8.self).dropFirst().dropLast()
            let body = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:\#(json)","size":2},"layers":[],"annotations":{"\#(json)":"\#(json)"}}"#
            return .respond(status: 200, headers: ["Content-Type": MediaType.imageManifest], body: Data(body.utf8))
        },
        Case(name: "registry error message") { request, _ in
            request.path.hasSuffix("/manifests/1")
                ? .respond(status: 404, headers: ["Content-Type": "application/json"], body: Data(#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"no \#(hostile) here"}]}"#.utf8))
                : nil
        },
        Case(name: "plain-text error body") { request, _ in
            request.path.hasSuffix("/manifests/1") ? .respond(status: 400, headers: [:], body: Data("bad \(hostile) request".utf8)) : nil
        },
        Case(name: "authentication challenge") { _, _ in
            .respond(status: 401, headers: ["WWW-Authenticate": "Negotiate\(hostile)"], body: Data())
        },
        Case(name: "redirect location") { request, _ in
            request.path.hasSuffix("/manifests/1") ? .respond(status: 307, headers: ["Location": "ftp://x/\(hostile)"], body: Data()) : nil
        },
    ]

    @Test(arguments: cases)
    func registryTextReachesStderrEscaped(_ hostile: Case) throws {
        let registry = try HostileRegistry(rule: hostile.rule)
        defer { registry.stop() }
        let scratch = try Scratch()
        let result = try MeasuredProcess.run(try BuildProducts.executable("devenv-core"),
                                             ["pull", "--no-unpack", "--store", scratch.file("store"), registry.reference],
                                             environment: ["DOCKER_CONFIG": scratch.file("docker"), "DEVENV_CONFIG_DIR": scratch.file("config")])
        #expect(result.status == 125, "\(result.stderr)")
        #expect(!result.stderrBytes.contains(0x1b) && !result.stderrBytes.contains(0x07), "raw control bytes in: \(result.stderr.debugDescription)")
        #expect(!result.stderr.unicodeScalars.contains("\u{9b}"))
        #expect(result.stderr.contains("\\x1b"), "\(result.stderr)")
    }

    @Test(arguments: ["127.0.0.1:1/team/app:\(hostile)", "127.0.0.1:1/Team\(hostile)/app:1", "127.0.0.1:1/team/app@sha256:\(hostile)",
                      "\(hostile).example/app:1"])
    func referenceOnTheCommandLineIsEscaped(_ reference: String) throws {
        let scratch = try Scratch()
        let result = try MeasuredProcess.run(try BuildProducts.executable("devenv-core"), ["pull", "--store", scratch.file("store"), reference])
        #expect(result.status != 0)
        #expect(!result.stderrBytes.contains(0x1b) && !result.stderrBytes.contains(0x07), "raw control bytes in: \(result.stderr.debugDescription)")
        #expect(result.stderr.contains("invalid image reference"), "\(result.stderr)")
    }

    @Test func unknownOptionIsEscaped() throws {
        let result = try MeasuredProcess.run(try BuildProducts.executable("devenv-core"), ["pull", "x", "--\(Self.hostile)"])
        #expect(result.status != 0)
        #expect(!result.stderrBytes.contains(0x1b) && !result.stderrBytes.contains(0x07), "raw control bytes in: \(result.stderr.debugDescription)")
        #expect(result.stderr.contains("Unknown option"), "\(result.stderr)")
    }
}
