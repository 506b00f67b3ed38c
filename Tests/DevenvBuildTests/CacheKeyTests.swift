import DevenvBuild
import DevenvOCI
import DevenvPlan
import Foundation
import Testing

@Suite struct CacheKeyTests {
    static let base = CacheKey.base(manifest: Digest.sha256(Data("manifest".utf8)))
    static let run = Step.run(RunStep(command: ["/bin/sh", "-c", "echo a > /a"]))
    static let file = BuildInput(path: "payload.txt", kind: .file, digest: Digest.sha256(Data("payload".utf8)), mode: 0o644)

    /// One step of each kind, every field set somewhere, with the key it must have.
    static let golden: [(String, Step, [BuildInput], String)] = [
        ("run", run, [], "sha256:38738621d1882222f4c1fa8c2d4fb8af7123341a704b39722a713a27da062e86"),
        ("run with everything",
         .run(RunStep(command: ["make"], arguments: [EnvironmentVariable(name: "V", value: "1")],
                      cacheMounts: [CacheMount(target: "/cache", id: "c", uid: 1, gid: 2, mode: 0o700)],
                      projectMount: "/workspaces/p", network: .none)), [], "sha256:442e209050ef7e919f12769b25b951ca311d4dc7f8f16340ffa33d60eda3a272"),
        ("copy", .copy(CopyStep(sources: ["payload.txt"], destination: "/payload.txt")), [file], "sha256:67990b1b1487858bb13448b8cd9f309ab68696632ada130cc6056abf6341d58e"),
        ("copy with everything",
         .copy(CopyStep(sources: ["/out"], destination: "/srv/", from: "build", owner: "1000:1000", mode: 0o755, unpacksArchives: true)),
         [file], "sha256:0d7f09e35285f07236e334463370650cb1c306f4cb1b52185e41b7eecf17fc26"),
        ("workdir", .workdir(WorkdirStep(path: "app", createsDirectory: false)), [], "sha256:cb803f224672138c9da6bf4d299a57fe471823ce2301162c2228c8b500eaaec4"),
        ("created workdir", .workdir(WorkdirStep(path: "/app", createsDirectory: true)), [], "sha256:e7b1f137e347763720e22620ddf603f155aa0294fd3a47ff4cc53efb548a1012"),
        ("config", .config([
            .env([EnvironmentVariable(name: "PATH", value: "/opt/bin:$PATH")], expands: true),
            .env([EnvironmentVariable(name: "A", value: "1")]),
            .user("1000:1000"), .labels([EnvironmentVariable(name: "l", value: "v")]), .entrypoint(["/bin/sh"]), .cmd(nil),
            .exposedPorts(["80/tcp"]), .volumes(["/data"]), .stopSignal("SIGTERM"),
        ]), [], "sha256:646d62306efcb39eba1c0d09cf31c549c9db6a1a9ce28ff2e7bd468fb20f1d57"),
    ]

    /// Golden values: an accidental change to the key derivation would silently invalidate
    /// (or worse, alias) every user's cache, so it must fail here first. A deliberate change
    /// bumps `CacheKey.version` and pins the new values here.
    @Test func keysAreStable() {
        #expect(Self.base.description == "sha256:e66f6b579a43ceeb4970f36e365e2ce292d6351941dea2c9dffbe91049c47b5f")
        for (name, step, inputs, expected) in Self.golden {
            #expect(CacheKey.step(parent: Self.base, step: step, inputs: inputs).description == expected, "\(name)")
        }
    }

    /// Version 2 (one step vocabulary) invalidated the version-1 keys, whose steps decoded
    /// differently: no old entry can be taken for a step of the new kind.
    @Test func versionOneKeysNoLongerMatch() {
        #expect(Self.base.description != "sha256:eb1598670bab9145c43ca48527fc54082625ae44fc7a47cd28a7725a157a0f35")
        #expect(CacheKey.step(parent: Self.base, step: Self.run, inputs: []).description
                != "sha256:20f3202237df645ba2702f0d5883f0d28dcf9bb311dcb727960e8ef2ca9e5644")
    }

    @Test func everyIngredientChangesTheKey() {
        func key(_ step: Step, inputs: [BuildInput] = [Self.file], parent: Digest = Self.base) -> Digest {
            CacheKey.step(parent: parent, step: step, inputs: inputs)
        }
        let command = ["/bin/sh", "-c", "echo a > /a"]
        var changed = Self.file
        changed.digest = Digest.sha256(Data("payload2".utf8))
        var executable = Self.file
        executable.mode = 0o755
        let copy = CopyStep(sources: ["payload.txt"], destination: "/payload.txt")
        var added = copy
        added.unpacksArchives = true
        let keys = [
            key(Self.run),
            key(Self.run, parent: CacheKey.base(manifest: Digest.sha256(Data("other".utf8)))),
            key(.run(RunStep(command: ["/bin/sh", "-c", "echo b > /a"]))),
            key(.run(RunStep(command: command, network: .none))),
            key(.run(RunStep(command: command, arguments: [EnvironmentVariable(name: "V", value: "1")]))),
            key(.run(RunStep(command: command, cacheMounts: [CacheMount(target: "/c")]))),
            key(.run(RunStep(command: command, cacheMounts: [CacheMount(target: "/c", id: "other")]))),
            key(.run(RunStep(command: command, projectMount: "/workspace"))),
            key(.run(RunStep(command: command, packageLayers: PackageLayers()))),
            key(.run(RunStep(command: command, packageLayers: PackageLayers(limit: 2)))),
            key(Self.run, inputs: [changed]),
            key(Self.run, inputs: [executable]),
            key(.copy(copy)),
            key(.copy(added)),
            key(.workdir(WorkdirStep(path: "/a", createsDirectory: false))),
            key(.workdir(WorkdirStep(path: "/a", createsDirectory: true))),
            key(.config([.env([EnvironmentVariable(name: "A", value: "$B")])])),
            key(.config([.env([EnvironmentVariable(name: "A", value: "$B")], expands: true)])),
        ]
        #expect(Set(keys).count == keys.count)
    }

    @Test func inputOrderDoesNotMatter() {
        let other = BuildInput(path: "b", kind: .symlink, digest: Digest.sha256(Data("target".utf8)), mode: 0o777)
        #expect(CacheKey.step(parent: Self.base, step: Self.run, inputs: [Self.file, other])
                == CacheKey.step(parent: Self.base, step: Self.run, inputs: [other, Self.file]))
    }
}
