import DevenvOCI
import DevenvPlan

/// What one build of a project looked like, step by step. The next build compares itself
/// with it to explain every cache miss.
public struct BuildRecord: Codable, Sendable {
    /// Larger files are not read (a record lists steps and their inputs).
    public static let maxSize = 256 << 20

    /// The `CacheKey.version` of the record's keys.
    public var version = CacheKey.version

    public struct Step: Codable, Sendable {
        public var key: Digest
        public var parent: Digest
        public var step: DevenvPlan.Step
        /// The step in its front end's words (`PlannedStep.definition`).
        public var definition: String
        public var inputs: [BuildInput]
        /// Where the step is defined (`.devenv/devenv.toml:12`), for messages.
        public var location: String

        public init(key: Digest, parent: Digest, step: DevenvPlan.Step, definition: String, inputs: [BuildInput], location: String) {
            self.key = key
            self.parent = parent
            self.step = step
            self.definition = definition
            self.inputs = inputs
            self.location = location
        }
    }

    public var base: String
    public var baseDigest: Digest
    public var steps: [Step]

    public init(base: String, baseDigest: Digest, steps: [Step]) {
        self.base = base
        self.baseDigest = baseDigest
        self.steps = steps
    }
}

/// Why a step missed the cache, compared with the previous build of the same project.
public enum MissReason: Equatable, Sendable, CustomStringConvertible {
    case firstBuild
    case stepChanged(from: String, to: String)
    case inputsChanged([InputChange])
    case baseChanged(name: String, from: Digest, to: Digest)
    case earlierStepRebuilt(Int)
    case noCache
    case entryMissing
    /// `devenv lock` runs the step again to resolve its packages from the archive as it is now.
    case resolvingAgain

    public var description: String {
        switch self {
        case .firstBuild: return "not built before"
        case let .stepChanged(from, to): return "the step changed: '\(from)' -> '\(to)'"
        case let .inputsChanged(changes): return changes.map(\.description).joined(separator: "; ")
        case let .baseChanged(name, from, to): return "base image \(name) moved: \(from.short) -> \(to.short)"
        case let .earlierStepRebuilt(number): return "earlier step \(number) was rebuilt"
        case .noCache: return "--no-cache"
        case .entryMissing: return "nothing changed, but the cached layer is gone (removed by gc)"
        case .resolvingAgain: return "devenv lock resolves its packages again"
        }
    }
}

public enum InputChange: Equatable, Sendable, CustomStringConvertible {
    case modified(path: String, from: Digest?, to: Digest?)
    case modeChanged(path: String, from: UInt32, to: UInt32)
    case mtimeChanged(path: String, from: Int64?, to: Int64?)
    case added(String)
    case removed(String)

    public var description: String {
        switch self {
        case let .modified(path, from, to):
            return "\(path) changed (\(from?.short ?? "-") -> \(to?.short ?? "-"))"
        case let .modeChanged(path, from, to):
            return "\(path) mode changed (\(String(from, radix: 8)) -> \(String(to, radix: 8)))"
        case let .mtimeChanged(path, from, to):
            return "\(path) modification time changed (\(from.map(String.init) ?? "-") -> \(to.map(String.init) ?? "-"))"
        case let .added(path): return "\(path) added"
        case let .removed(path): return "\(path) removed"
        }
    }
}

public enum Explainer {
    /// The reason step `index` missed. `rebuiltBefore` is the number (1-based) of the
    /// nearest earlier step that missed, if any.
    public static func reason(index: Int, current: BuildRecord.Step, base: (name: String, digest: Digest),
                              previous: BuildRecord?, rebuiltBefore: Int?, noCache: Bool) -> MissReason {
        if noCache { return .noCache }
        guard let previous, index < previous.steps.count else { return .firstBuild }
        let old = previous.steps[index]
        if old.step != current.step {
            let (from, to) = changeDescription(from: old, to: current)
            return .stepChanged(from: from, to: to)
        }
        let changes = inputChanges(from: old.inputs, to: current.inputs)
        if !changes.isEmpty { return .inputsChanged(changes) }
        if let rebuiltBefore { return .earlierStepRebuilt(rebuiltBefore) }
        if previous.baseDigest != base.digest { return .baseChanged(name: base.name, from: previous.baseDigest, to: base.digest) }
        return .entryMissing
    }

    /// How two versions of a step differ: their definitions, or when those are equal (a
    /// build argument, a cache mount, the network changed), the parts that differ.
    static func changeDescription(from old: BuildRecord.Step, to new: BuildRecord.Step) -> (String, String) {
        if old.definition != new.definition { return (old.definition, new.definition) }
        if case let .run(before) = old.step, case let .run(after) = new.step {
            if before.arguments != after.arguments { return (describe(before.arguments), describe(after.arguments)) }
            if before.cacheMounts != after.cacheMounts { return (describe(before.cacheMounts), describe(after.cacheMounts)) }
            if before.network != after.network { return ("network \(before.network.rawValue)", "network \(after.network.rawValue)") }
        }
        return (old.definition, new.definition)
    }

    private static func describe(_ arguments: [EnvironmentVariable]) -> String {
        arguments.isEmpty ? "no build arguments" : "build arguments " + arguments.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
    }

    private static func describe(_ mounts: [CacheMount]) -> String {
        "cache mounts " + mounts.map { mount in
            var text = mount.target
            if mount.id != mount.target { text += " (id \(mount.id))" }
            return text
        }.joined(separator: " ")
    }

    public static func inputChanges(from old: [BuildInput], to new: [BuildInput]) -> [InputChange] {
        let before = Dictionary(old.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [InputChange] = []
        for input in new.sorted() {
            guard let previous = before[input.path] else { changes.append(.added(input.path)); continue }
            if previous.digest != input.digest || previous.kind != input.kind {
                changes.append(.modified(path: input.path, from: previous.digest, to: input.digest))
            } else if previous.mode != input.mode {
                changes.append(.modeChanged(path: input.path, from: previous.mode, to: input.mode))
            } else if previous.mtime != input.mtime {
                changes.append(.mtimeChanged(path: input.path, from: previous.mtime, to: input.mtime))
            }
        }
        for input in old.sorted() where after[input.path] == nil {
            changes.append(.removed(input.path))
        }
        return changes
    }
}
