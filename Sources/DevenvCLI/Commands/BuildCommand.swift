import ArgumentParser
import DevenvBuild
import DevenvKit
import DevenvOCI
import DevenvPlan
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

    @OptionGroup var secrets: SecretOptions

    @OptionGroup var display: ProgressOptions

    func validate() throws { try dockerfile.validate() }

    func run() throws {
        display.apply()
        try reportingErrors {
            let secrets = try self.secrets.values()
            let engine = try global.engine()
            let project: Project
            if let file = dockerfile.file {
                return try render(adopted: AdoptedBuilding.build(engine: engine, dockerfile: dockerfile, file: file, noCache: noCache, frozen: frozen,
                                                                 explain: explain, secrets: secrets))
            }
            switch try ProjectLocator.load(from: try HostPath.currentDirectory()) {
            case let .devContainer(adopted):
                if frozen { throw LockError.notLocked("a devcontainer.json project") }
                return try render(adopted: AdoptedBuilding.build(engine: engine, adopted: adopted, noCache: noCache, explain: explain, secrets: secrets))
            case let .manifest(manifestProject):
                project = manifestProject
            }
            let outcome = try ProjectBuilding.build(engine: engine, project: project,
                                                    options: ProjectBuild.Options(frozen: frozen, noCache: noCache), explain: explain, secrets: secrets)
            if push {
                guard project.manifest.cache != nil else {
                    throw KitError.noCacheRegistry(manifest: project.displayPath)
                }
                let view = TransferView(direction: .push)
                if let reference = try ProjectBuild(engine: engine, project: project).push(outcome.image, progress: view.handle) {
                    view.finish()
                    Terminal.note("pushed \(reference.familiar)")
                }
            }
            if global.json { return Terminal.printJSON(BuildSummary(outcome)) }
            let line = "\(outcome.image.familiarName) \(outcome.image.manifestDescriptor.digest)"
            Terminal.print(line)
            // A line with --secret or --ssh is never one the front end answers (WarmInvocation).
            WarmRecording.build(project: project, engine: engine, outcome: outcome, printed: line)
        }
    }

    /// A Dockerfile or devcontainer.json build, which has no `[cache] registry` to push to.
    private func render(adopted: BuildResult) throws {
        if push { throw KitError.noCacheRegistry(manifest: "a .devenv/devenv.toml") }
        if global.json { return Terminal.printJSON(BuildSummary(.built(adopted))) }
        Terminal.print("\(adopted.image.familiarName) \(adopted.image.manifestDescriptor.digest)")
    }
}

/// Shared by build, shell and run: builds with progress and an explanation of every miss
/// when asked for (and always for steps that ran, in one line each); then, if the build
/// wrote anything, the store budget.
enum ProjectBuilding {
    /// `secrets` (the command line's) win over the manifest's `src` for the same id.
    static func build(engine: Engine, project: Project, options: ProjectBuild.Options, explain: Bool,
                      secrets: BuildSecrets = BuildSecrets()) throws -> ProjectBuild.Outcome {
        var build = ProjectBuild(engine: engine, project: project)
        DistroProgress.configure(&build)
        let progress = BuildProgress(explain: explain)
        let sources = try project.buildSecrets(home: SessionHost.current().home).merging(secrets)
        let executor = progress.executor(RuntimeStepExecutor(store: engine.store, secrets: sources))
        let transfers = TransferView(direction: .pull)
        engine.transferProgress = transfers.handle
        let result: ProjectBuild.Outcome
        do {
            defer { transfers.finish() }
            result = try build.build(options: options, executor: executor, onWait: {
                Terminal.note("waiting for another build of this project to finish…")
            }, note: { Terminal.note($0) }, events: progress.events)
        }
        switch result {
        case let .built(built) where built.rebuiltSteps > 0:
            StoreMaintenance.afterWrite(engine, keeping: [result.image.manifestDescriptor.digest])
        case .fetched:
            StoreMaintenance.afterWrite(engine, keeping: [result.image.manifestDescriptor.digest])
        default:
            break
        }
        return result
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
        var reproducible: Bool
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
                 reason: $0.missReason?.description, key: $0.key.description, seconds: $0.seconds, reproducible: $0.reproducible)
        }
    }
}

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Resolve every input again (base tag, Dockerfile images, distro archive, steps, copied files) and write .devenv/devenv.lock.",
        discussion: "Prints what moved; packages steps run again to resolve their packages from the archive as it is now. --check and --diff run nothing. Exit status 67 with --check when the lock is not current."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Only tell whether the lock is current (exit 0) or not (exit 67); write nothing.")
    var check = false

    @Flag(help: "Print how the lock file would change, as a diff; write nothing.")
    var diff = false

    func validate() throws {
        if check && diff { throw ValidationError("--check and --diff do not go together") }
    }

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            engine.notes = { Terminal.note("devenv: note: \($0)") }
            switch try ProjectLocator.load(from: try HostPath.currentDirectory()) {
            case let .devContainer(project):
                guard !project.config.features.isEmpty else { throw try project.lockRefusal(engine: engine) }
                let lock = try project.lockFeatures(engine: engine)
                for (reference, entry) in lock.features.sorted(by: { $0.key < $1.key }) {
                    Terminal.print("locked feature \(Printable.escape(reference, limit: 200)) at \(entry.resolved)")
                }
                Terminal.print("wrote \(Printable.escape(project.featureLockPath, limit: 400))")
            case let .manifest(project):
                var build = ProjectBuild(engine: engine, project: project)
                DistroProgress.configure(&build)
                let update: LockUpdate
                if check || diff {
                    update = try build.relock(write: false)
                } else {
                    // `packages` steps resolve again by running (unpinned), shown as a build is.
                    let progress = BuildProgress(explain: false)
                    let sources = try project.buildSecrets(home: SessionHost.current().home)
                    update = try build.relock(write: true, executor: progress.executor(RuntimeStepExecutor(store: engine.store, secrets: sources)),
                                              onWait: { Terminal.note("waiting for another build of this project to finish…") }, events: progress.events)
                }
                if diff {
                    let text = LineDiff.unified(old: update.old?.render() ?? "", new: update.new.render(),
                                                oldName: "a/.devenv/devenv.lock", newName: "b/.devenv/devenv.lock")
                    if !text.isEmpty { Terminal.print(String(text.dropLast())) }
                    return
                }
                if check {
                    if let error = update.checkFailure(project: project.displayPath) { throw error }
                    return Terminal.print(".devenv/devenv.lock is current")
                }
                for change in update.changes { Terminal.print(change.description) }
                Terminal.print("locked \(update.new.base) at \(update.new.baseDigest)")
            }
        }
    }
}
