@testable import DevenvTestSupport
import DevenvManifest
import Foundation
import Testing
@testable import DevenvKit

/// The generated YAML against the Kubernetes API schemas (`kubernetes-validate --strict`,
/// offline) and read back by a real YAML parser: what the cluster sees is what devenv meant.
@Suite(.enabled(if: Requirement.programs("kubernetes-validate", "python3")))
struct KubeValidationTests {
    static let manifest = #"""
    [base]
    image = "busybox"

    [[step]]
    run = "true"

    [shell]
    env = { GREETING = "hi\nkind: Secret", PATH = "/opt/x:$PATH", TRICKY = "*a &b !c {d} [e] %f @g `h` | > 'i' \"j\" #k" }

    [services.db]
    command = "postgres -D /data"
    ports = [5432]
    ready = ["pg_isready", "-h", "127.0.0.1"]
    volumes = ["pgdata:/data", "./conf:/etc/db:ro"]
    restart = "on-failure"

    [services.Cache]
    image = "docker.io/library/redis:7"
    ports = [6379]
    env = { "weird.name-1" = "yes" }
    restart = "always"
    """#

    static func request(_ kind: KubeRequest.Kind) throws -> KubeRequest {
        KubeRequest(name: "my-app", image: "127.0.0.1:5000/team/env@sha256:" + String(repeating: "b", count: 64),
                    manifest: try Manifest.parse(Array(Self.manifest.utf8), path: ".devenv/devenv.toml"),
                    workspace: .clone(url: "https://example.com/o/r.git", commit: String(repeating: "d", count: 40), subdirectory: "sub", image: nil),
                    kind: kind, imageEnvironment: ["PATH=/usr/bin"], runAs: .init(uid: 1000, gid: 1000), capabilities: ["CHOWN", "NET_BIND_SERVICE"])
    }

    @Test(arguments: [KubeRequest.Kind.pod, .deployment])
    func generatedObjectsMatchTheKubernetesSchemas(_ kind: KubeRequest.Kind) throws {
        try Requirement.require(programs: ["kubernetes-validate"])
        let scratch = try Scratch("devenv-kube")
        let file = scratch.file("\(kind.rawValue).yaml")
        try PodGenerator.generate(try Self.request(kind)).text.write(toFile: file, atomically: false, encoding: .utf8)
        let result = try Tools.execute("kubernetes-validate", ["--strict", file])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("passed for resource persistentvolumeclaim/my-app-pgdata"), "\(result.stdout)")
        #expect(result.stdout.contains("passed for resource \(kind == .pod ? "pod" : "deployment")/my-app"), "\(result.stdout)")

        // The schema check itself is not a no-op: a wrong type fails it.
        let broken = scratch.file("broken.yaml")
        try PodGenerator.generate(try Self.request(kind)).text.replacingOccurrences(of: "containerPort: 5432", with: "containerPort: [5432]")
            .write(toFile: broken, atomically: false, encoding: .utf8)
        #expect(try Tools.execute("kubernetes-validate", ["--strict", broken]).status != 0)
    }

    /// Read back with PyYAML, every hostile value is the one string the manifest gave.
    @Test func yamlReadsBackAsWritten() throws {
        try Requirement.require(programs: ["python3"])
        let text = try PodGenerator.generate(try Self.request(.pod)).text
        let script = "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))"
        let output = try Tools.run("python3", ["-c", script], stdin: Data(text.utf8))
        let documents = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        #expect(documents.map { $0["kind"] as? String } == ["PersistentVolumeClaim", "Pod"])
        let spec = try #require(documents[1]["spec"] as? [String: Any])
        let containers = try #require(spec["containers"] as? [[String: Any]])
        #expect(containers.map { $0["name"] as? String } == ["workspace", "db", "cache"])
        let env = try #require(containers[0]["env"] as? [[String: String]])
        #expect(env == [
            ["name": "GREETING", "value": "hi\nkind: Secret"],
            ["name": "PATH", "value": "/opt/x:/usr/bin"],
            ["name": "TRICKY", "value": "*a &b !c {d} [e] %f @g `h` | > 'i' \"j\" #k"],
        ])
        #expect(containers[2]["env"] as? [[String: String]] == [["name": "weird.name-1", "value": "yes"]])
        #expect(containers[1]["command"] as? [String] == ["/bin/sh", "-c", "postgres -D /data"])
        let ports = try #require(containers[1]["ports"] as? [[String: Any]])
        #expect(ports.first?["containerPort"] as? Int == 5432)
        let initContainers = try #require(spec["initContainers"] as? [[String: Any]])
        #expect(initContainers.map { $0["name"] as? String } == ["clone-workspace", "checkout-workspace"])
    }
}
