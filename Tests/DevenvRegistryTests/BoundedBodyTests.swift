@testable import DevenvTestSupport
import DevenvOCI
import DevenvRegistry
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 item 9: a hostile registry cannot make `devenv pull` hold more than a bounded
/// amount of memory. Each case runs the real binary against endless or lying bodies and
/// measures the child's peak RSS; each must fail quickly, clearly, and store nothing.
@Suite struct BoundedBodyTests {
    /// devenv-core's own footprint is ~40 MB; before the fix every case passed 250 MB and
    /// most reached the 1 GiB at which the test kills it (7.1 GB in the report).
    static let peakLimit = 120 << 20

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var rule: HostileRegistry.Rule
        /// Expected in the error, with `{digest}` and `{registry}` filled in.
        var messages: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "endless chunked layer declared as 100 bytes", rule: { request, registry in
            request.path.hasSuffix("/blobs/\(registry.layerDigest)") ? .endless(status: 200) : nil
        }, messages: ["{registry} sent more than the 100 bytes blob {digest} declares; stopped reading at byte 101"]),
        Case(name: "layer served with a Content-Length over its declared size", rule: { request, registry in
            request.path.hasSuffix("/blobs/\(registry.layerDigest)") ? .lying(status: 200, length: 1 << 40) : nil
        }, messages: ["{registry} sends blob {digest} as 1099511627776 bytes, its descriptor declares 100; nothing was read"]),
        Case(name: "endless HTTP 500 body for the layer", rule: { request, registry in
            request.path.hasSuffix("/blobs/\(registry.layerDigest)") ? .endless(status: 500) : nil
        }, messages: ["GET layer {digest}", "gave up after 5 failed attempts", "HTTP 500"]),
        Case(name: "endless HTTP 500 body for the manifest", rule: { request, _ in
            request.path.hasSuffix("/manifests/1") ? .endless(status: 500) : nil
        }, messages: ["GET manifest team/app:1", "HTTP 500"]),
        Case(name: "endless manifest", rule: { request, _ in
            request.path.hasSuffix("/manifests/1") ? .endless(status: 200, headers: ["Content-Type": MediaType.imageManifest]) : nil
        }, messages: ["GET manifest team/app:1", "larger than the limit of 4194304 bytes"]),
        Case(name: "manifest declaring 100 GB", rule: { request, _ in
            request.path.hasSuffix("/manifests/1") ? .lying(status: 200, length: 100 << 30) : nil
        }, messages: ["declares 107374182400 bytes, larger than the limit of 4194304 bytes; nothing was read"]),
        Case(name: "endless token response", rule: { request, registry in
            if request.path == "/token" { return .endless(status: 200, headers: ["Content-Type": "application/json"]) }
            guard request.headers["authorization"] == nil else { return nil }
            return .respond(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="http://\#(registry.authority)/token",service="hostile""#], body: Data())
        }, messages: ["GET http://{registry}/token", "larger than the limit of 1048576 bytes; stopped reading there"]),
    ]

    @Test(arguments: cases)
    func hostileBodiesAreBounded(_ hostile: Case) throws {
        let registry = try HostileRegistry(rule: hostile.rule)
        defer { registry.stop() }
        let scratch = try Scratch()
        let store = scratch.file("store")
        let result = try MeasuredProcess.run(try BuildProducts.executable("devenv-core"),
                                             ["pull", "--no-unpack", "--store", store, registry.reference],
                                             environment: ["DOCKER_CONFIG": scratch.file("docker"), "DEVENV_CONFIG_DIR": scratch.file("config")])
        #expect(result.status == 125, "\(result.stderr.prefix(2000))")
        #expect(!result.timedOut)
        #expect(result.seconds < 30, "took \(result.seconds) s")
        #expect(result.peakResidentBytes < Self.peakLimit, "peak RSS \(result.peakResidentBytes >> 20) MiB")
        for message in hostile.messages {
            let expected = message.replacingOccurrences(of: "{digest}", with: registry.layerDigest.description)
                .replacingOccurrences(of: "{registry}", with: registry.authority)
            #expect(result.stderr.contains(expected), "\(result.stderr.prefix(2000))")
        }
        // The error says what it read, never the body itself.
        #expect(result.stderr.utf8.count < 4096, "\(result.stderr.utf8.count) bytes of error")
        // Nothing half-visible: no layer blob, no name.
        #expect(!FileManager.default.fileExists(atPath: "\(store)/blobs/sha256/\(registry.layerDigest.encoded)"))
        let index = (try? String(contentsOfFile: "\(store)/index.json", encoding: .utf8)) ?? ""
        #expect(!index.contains("team/app"), "\(index)")
    }

    /// The same bound for an unprivileged user (`devenv-test`, made by .ci/prepare-host):
    /// nothing here depends on privileges, and this shows it. Runs as root, as CI does.
    @Test(.enabled(if: Requirement.root(), "needs root (it switches to the unprivileged test user)")) func rootlessPullIsBoundedToo() throws {
        guard let entry = getpwnam("devenv-test") else { throw TestFailure("no devenv-test user: run .ci/prepare-host") }
        let (uid, gid) = (entry.pointee.pw_uid, entry.pointee.pw_gid)
        let registry = try HostileRegistry { request, registry in
            request.path.hasSuffix("/blobs/\(registry.layerDigest)") ? .endless(status: 200) : nil
        }
        defer { registry.stop() }
        let scratch = try Scratch()
        chmod(scratch.path, 0o755)
        let home = scratch.file("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        chown(home, uid, gid)
        let result = try MeasuredProcess.run("/usr/bin/setpriv", [
            "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "/usr/bin/env", "-i", "HOME=\(home)", "PATH=/usr/bin:/bin",
            try BuildProducts.executable("devenv-core"), "pull", "--no-unpack", "--store", "\(home)/store", registry.reference,
        ])
        #expect(result.status == 125, "\(result.stderr)")
        #expect(result.stderr.contains("sent more than the 100 bytes blob \(registry.layerDigest) declares"), "\(result.stderr)")
        #expect(result.peakResidentBytes < Self.peakLimit, "peak RSS \(result.peakResidentBytes >> 20) MiB")
        #expect(!FileManager.default.fileExists(atPath: "\(home)/store/blobs/sha256/\(registry.layerDigest.encoded)"))
    }
}
