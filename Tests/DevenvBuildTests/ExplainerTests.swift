import DevenvBuild
import DevenvOCI
import DevenvPlan
import Foundation
import Testing

@Suite struct ExplainerTests {
    static func digest(_ text: String) -> Digest { Digest.sha256(Data(text.utf8)) }
    static let base = (name: "busybox:1", digest: digest("base"))
    static let step = Step.copy(CopyStep(sources: ["payload.txt"], destination: "/payload.txt"))

    static func record(_ inputs: [BuildInput], step: Step = step, definition: String = "copy payload.txt -> /payload.txt",
                       base: Digest = digest("base")) -> BuildRecord {
        BuildRecord(base: "busybox:1", baseDigest: base, steps: [
            .init(key: digest("k"), parent: digest("p"), step: step, definition: definition, inputs: inputs, location: "devenv.toml:3"),
        ])
    }

    static func input(_ path: String, _ content: String, mode: UInt32 = 0o644) -> BuildInput {
        BuildInput(path: path, kind: .file, digest: digest(content), mode: mode)
    }

    @Test func explainsAChangedFile() {
        let previous = Self.record([Self.input("payload.txt", "v1")])
        let current = Self.record([Self.input("payload.txt", "v2")]).steps[0]
        let reason = Explainer.reason(index: 0, current: current, base: Self.base, previous: previous, rebuiltBefore: nil, noCache: false)
        #expect(reason.description == "payload.txt changed (\(Self.digest("v1").short) -> \(Self.digest("v2").short))")
    }

    @Test func explainsAddedRemovedAndModeChanges() {
        let changes = Explainer.inputChanges(
            from: [Self.input("a", "1"), Self.input("gone", "x"), Self.input("run.sh", "s")],
            to: [Self.input("a", "1"), Self.input("new", "y"), Self.input("run.sh", "s", mode: 0o755)])
        #expect(changes.map(\.description) == ["new added", "run.sh mode changed (644 -> 755)", "gone removed"])
    }

    @Test func explainsAChangedStepBeforeInputs() {
        let previous = Self.record([Self.input("payload.txt", "v1")])
        let changed = Step.copy(CopyStep(sources: ["payload.txt"], destination: "/srv/payload.txt"))
        let current = Self.record([Self.input("payload.txt", "v2")], step: changed, definition: "copy payload.txt -> /srv/payload.txt").steps[0]
        let reason = Explainer.reason(index: 0, current: current, base: Self.base, previous: previous, rebuiltBefore: nil, noCache: false)
        #expect(reason == .stepChanged(from: "copy payload.txt -> /payload.txt", to: "copy payload.txt -> /srv/payload.txt"))
    }

    /// A changed cache mount or build argument leaves the definition as it was: the
    /// explanation names the part that changed.
    @Test func explainsChangesTheDefinitionDoesNotShow() {
        let run = RunStep(command: ["/bin/sh", "-c", "make"], cacheMounts: [CacheMount(target: "/root/.cache")])
        var moved = run
        moved.cacheMounts = [CacheMount(target: "/root/.cache", id: "shared")]
        var argument = run
        argument.arguments = [EnvironmentVariable(name: "V", value: "2")]
        let previous = Self.record([], step: .run(run), definition: "RUN make")
        let reasons = [moved, argument].map { step in
            Explainer.reason(index: 0, current: Self.record([], step: .run(step), definition: "RUN make").steps[0], base: Self.base,
                             previous: previous, rebuiltBefore: nil, noCache: false)
        }
        #expect(reasons == [
            .stepChanged(from: "cache mounts /root/.cache", to: "cache mounts /root/.cache (id shared)"),
            .stepChanged(from: "no build arguments", to: "build arguments V=2"),
        ])
    }

    @Test func explainsCascadesAndBaseMoves() {
        let previous = Self.record([Self.input("payload.txt", "v1")])
        let current = previous.steps[0]
        #expect(Explainer.reason(index: 0, current: current, base: Self.base, previous: previous, rebuiltBefore: 2, noCache: false) == .earlierStepRebuilt(2))
        let moved = (name: "busybox:1", digest: Self.digest("base2"))
        #expect(Explainer.reason(index: 0, current: current, base: moved, previous: previous, rebuiltBefore: nil, noCache: false)
                == .baseChanged(name: "busybox:1", from: Self.digest("base"), to: Self.digest("base2")))
        #expect(Explainer.reason(index: 0, current: current, base: Self.base, previous: previous, rebuiltBefore: nil, noCache: false) == .entryMissing)
        #expect(Explainer.reason(index: 0, current: current, base: Self.base, previous: nil, rebuiltBefore: nil, noCache: false) == .firstBuild)
        #expect(Explainer.reason(index: 0, current: current, base: Self.base, previous: previous, rebuiltBefore: nil, noCache: true) == .noCache)
    }
}
