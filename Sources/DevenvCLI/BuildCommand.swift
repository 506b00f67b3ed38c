import ArgumentParser
import DevenvBuild
import DevenvKit
import DevenvOCI
import DevenvSystem
import Foundation

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the project's environment image, reusing every cached step that did not change."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Say for every step whether it was cached and, if not, exactly why.")
    var explain = false

    @Flag(help: "Fail if .devenv/devenv.lock is missing or stale instead of updating it (for CI).")
    var frozen = false

    @Flag(help: "Run every step again.")
    var noCache = false

    @Flag(help: "Push the environment to the manifest's [cache] registry, tagged with its cache key.")
    var push = false

    @OptionGroup var dockerfile: DockerfileOptions

    func validate() throws { try dockerfile.validate() }

    func run() throws {
        try reportingErrors {
            let engine = try global.containerEngine()
            if let adopted = try AdoptedBuilding.build(engine: engine, options: dockerfile, noCache: noCache, frozen: frozen, explain: explain) {
                if push { throw KitError.invalidArgument("--push needs a [cache] registry in a .devenv/devenv.toml") }
                if global.json { return Terminal.printJSON(BuildSummary(.built(adopted))) }
                return Terminal.print("\(adopted.image.familiarName) \(adopted.image.manifestDescriptor.digest)")
            }
            let project = try Project.load(from: try HostPath.currentDirectory())
            let outcome = try ProjectBuilding.build(engine: engine, project: project,
                                                    options: ProjectBuild.Options(frozen: frozen, noCache: noCache), explain: explain)
            if push {
                guard project.manifest.cache != nil else {
                    throw KitError.invalidArgument("--push needs a [cache] registry in \(project.displayPath)")
                }
                let view = TransferView(verb: "push")
                if let reference = try ProjectBuild(engine: engine, project: project).push(outcome.image, progress: view.handle) {
                    view.finish()
                    Terminal.note("pushed \(reference.familiar)")
                }
            }
            if global.json { return Terminal.printJSON(BuildSummary(outcome)) }
            Terminal.print("\(outcome.image.familiarName) \(outcome.image.manifestDescriptor.digest)")
        }
    }
}

/// Shared by build, shell and run: builds with progress on a terminal and an explanation
/// of every miss when asked for (and always for steps that ran, in one line each).
enum ProjectBuilding {
    static func build(engine: Engine, project: Project, options: ProjectBuild.Options, explain: Bool) throws -> ProjectBuild.Outcome {
        var build = ProjectBuild(engine: engine, project: project)
        DistroProgress.configure(&build)
        let executor = RuntimeStepExecutor(store: engine.store)
        let transfers = TransferView(verb: "pull")
        engine.transferProgress = transfers.handle
        defer { transfers.finish() }
        let result = try build.build(options: options, executor: executor, onWait: {
            Terminal.note("waiting for another build of this project to finish…")
        }, note: { Terminal.note($0) }, events: display(explain: explain, steps: project.manifest.steps.count))
        return result
    }

    /// Progress on a terminal, and a line per rebuilt step (every step with --explain).
    static func display(explain: Bool, steps: Int = 0) -> (BuildEvent) -> Void {
        var total = steps
        return { event in
            switch event {
            case let .stepStarted(number, steps, summary):
                total = steps
                Terminal.progress("[\(number)/\(steps)] \(summary)")
            case let .stepFinished(outcome):
                Terminal.endProgress()
                if explain || outcome.missReason != nil {
                    Terminal.note(line(outcome, total: total))
                }
            }
        }
    }

    static func line(_ outcome: StepOutcome, total: Int) -> String {
        let status = outcome.missReason.map { "rebuilt (\($0))" } ?? "cached"
        let time = outcome.missReason == nil ? "" : String(format: " %.2fs", outcome.seconds)
        return "step \(outcome.number)/\(total) \(outcome.location): \(Printable.escape(outcome.summary, limit: 80)): \(status)\(time)"
    }
}

struct BuildSummary: Encodable {
    struct Step: Encodable {
        var number: Int
        var location: String
        var summary: String
        var cached: Bool
        var reason: String?
        var key: String
        var seconds: Double
    }

    var image: String
    var digest: String
    /// built, fetched (from the cache registry) or up-to-date.
    var source: String
    var steps: [Step]

    init(_ outcome: ProjectBuild.Outcome) {
        image = outcome.image.familiarName
        digest = outcome.image.manifestDescriptor.digest.description
        guard case let .built(result) = outcome else {
            source = { if case .fetched = outcome { return "fetched" } else { return "up-to-date" } }()
            steps = []
            return
        }
        source = "built"
        steps = result.steps.map {
            Step(number: $0.number, location: $0.location, summary: $0.summary, cached: $0.missReason == nil,
                 reason: $0.missReason?.description, key: $0.key.description, seconds: $0.seconds)
        }
    }
}

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Resolve the base image again and write .devenv/devenv.lock."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try reportingErrors {
            let project = try Project.load(from: try HostPath.currentDirectory())
            var build = ProjectBuild(engine: try global.engine(), project: project)
            DistroProgress.configure(&build)
            let lock = try build.lock()
            Terminal.print("locked \(lock.base) at \(lock.baseDigest)")
        }
    }
}
