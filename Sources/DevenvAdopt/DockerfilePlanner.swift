import DevenvOCI
import DevenvPlan
import DevenvText

/// Turns a parsed Dockerfile into devenv build steps for one target: resolves build
/// arguments and stage references, expands variables with the values in effect at each
/// instruction (ENV over ARG, as BuildKit does), and maps every instruction onto a cached
/// step. Pure, except that the caller's `imageConfig` reads base images' configurations.
public struct DockerfilePlanner {
    public static let defaultShell = ["/bin/sh", "-c"]

    public struct Options: Sendable {
        /// The stage to build (name or number); nil builds the last one.
        public var target: String?
        /// `--build-arg`s / `args`: they override ARG defaults.
        public var arguments: [String: String]
        /// The platform the build runs on and for (devenv builds only for its own).
        public var platform: Platform

        public init(target: String? = nil, arguments: [String: String] = [:], platform: Platform = .host) {
            self.target = target
            self.arguments = arguments
            self.platform = platform
        }
    }

    public let dockerfile: Dockerfile
    public let options: Options
    /// The run configuration of an image a FROM names (the word is the reference with
    /// variables expanded, at the FROM's location). Throws when the image is unavailable.
    public let imageConfig: (Word) throws -> ImageConfig.RunConfig

    public init(dockerfile: Dockerfile, options: Options, imageConfig: @escaping (Word) throws -> ImageConfig.RunConfig) {
        self.dockerfile = dockerfile
        self.options = options
        self.imageConfig = imageConfig
    }

    /// - Throws: `DiagnosticError` located in the Dockerfile for anything the file gets wrong
    ///   in the stages the target needs; `imageConfig`'s own errors unchanged.
    public func plan() throws -> DockerfilePlan {
        let target = try targetStage()
        var globals = GlobalArguments(predefined: Self.platformArguments(options.platform))
        var diagnostics: [Diagnostic] = []
        for instruction in dockerfile.globalArguments {
            guard case let .arg(declarations) = instruction.command else { continue }
            for declaration in declarations {
                do {
                    try globals.declare(declaration, buildArguments: options.arguments, escape: dockerfile.escape)
                } catch let failure as ShellExpander.Failure {
                    diagnostics.append(Diagnostic("ARG \(Printable.escape(declaration.name.value)): \(failure.description)",
                                                  at: declaration.defaultValue?.location ?? declaration.name.location))
                }
            }
        }
        guard diagnostics.isEmpty else { throw dockerfile.error(diagnostics) }

        // Stages are planned in file order (a stage can only use earlier ones); a stage the
        // target does not need may fail without failing the build.
        var outcomes: [Result<PlannedStage, Error>] = []
        var consumed = Set(globals.declared.keys)
        for stage in dockerfile.stages[0...target.index] {
            var planner = StagePlanner(dockerfile: dockerfile, stage: stage, globals: globals, options: options,
                                       earlier: outcomes, imageConfig: imageConfig)
            outcomes.append(Result { try planner.plan() })
            consumed.formUnion(planner.consumedArguments)
        }
        var needed = Set<Int>()
        var pending = [target.index]
        while let index = pending.popLast() {
            guard needed.insert(index).inserted else { continue }
            let stage = try outcomes[index].get()
            pending += stage.dependencies
        }
        let stages = try needed.sorted().map { try outcomes[$0].get() }
        let unused = options.arguments.keys.filter { !consumed.contains($0) }.sorted()
        return DockerfilePlan(stages: stages, unusedArguments: unused)
    }

    private func targetStage() throws -> Stage {
        guard let name = options.target else { return dockerfile.stages[dockerfile.stages.count - 1] }
        guard let stage = dockerfile.stage(named: name) else {
            let names = dockerfile.stages.compactMap(\.name)
            throw dockerfile.error([Diagnostic("target stage '\(Printable.escape(name))' is not in the Dockerfile"
                + (names.isEmpty ? " (it has no named stages)" : " (stages: \(names.joined(separator: ", ")))"), at: .start)])
        }
        return stage
    }

    /// BuildKit's automatic platform arguments, for the one platform devenv builds.
    static func platformArguments(_ platform: Platform) -> [String: String] {
        let variant = platform.variant ?? ""
        let text = "\(platform.os)/\(platform.architecture)" + (variant.isEmpty ? "" : "/\(variant)")
        var values: [String: String] = [:]
        for prefix in ["BUILD", "TARGET"] {
            values[prefix + "PLATFORM"] = text
            values[prefix + "OS"] = platform.os
            values[prefix + "ARCH"] = platform.architecture
            values[prefix + "VARIANT"] = variant
        }
        return values
    }
}

/// ARGs declared before the first FROM: visible to FROM lines, and the defaults of a
/// stage's own `ARG NAME` without a value.
struct GlobalArguments {
    let predefined: [String: String]
    /// Declared names and their values (nil: declared without one).
    private(set) var declared: [String: String?] = [:]

    init(predefined: [String: String]) {
        self.predefined = predefined
    }

    func value(_ name: String) -> String? {
        if let value = declared[name] { return value }
        return predefined[name]
    }

    mutating func declare(_ declaration: ArgDeclaration, buildArguments: [String: String], escape: Character) throws {
        let name = declaration.name.value
        if let given = buildArguments[name] {
            declared[name] = .some(given)
        } else if let text = declaration.defaultValue {
            let current = self
            let expander = ShellExpander(escape: escape.unicodeScalars.first ?? "\\") { current.value($0) }
            declared[name] = .some(try expander.word(text.value))
        } else {
            declared[name] = .some(predefined[name])
        }
    }
}

extension PlannedStage {
    /// Earlier stages this one builds on or copies from.
    var dependencies: [Int] {
        var result: [Int] = []
        if case let .stage(index) = base { result.append(index) }
        for step in steps {
            if case let .stage(index)? = step.copy?.origin { result.append(index) }
        }
        return result
    }
}
