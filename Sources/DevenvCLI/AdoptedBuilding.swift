import ArgumentParser
import DevenvBuild
import DevenvKit
import DevenvOCI
import DevenvPlan
import DevenvSystem
import Foundation

/// `devenv build --file Dockerfile [--target STAGE] [--build-arg NAME=VALUE] [--context DIR]`.
struct DockerfileOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Build this Dockerfile instead of the project's manifest (the context is the current directory).", valueName: "PATH"))
    var file: String?

    @Option(help: ArgumentHelp("With --file: the build context directory.", valueName: "DIR"))
    var context: String?

    @Option(help: ArgumentHelp("With --file: the stage to build (default: the last).", valueName: "STAGE"))
    var target: String?

    @Option(name: .customLong("build-arg"), help: ArgumentHelp("With --file: a build argument (NAME alone takes the value from the environment).", valueName: "NAME=VALUE"))
    var buildArguments: [String] = []

    func validate() throws {
        if file == nil && (context != nil || target != nil || !buildArguments.isEmpty) {
            throw ValidationError("--context, --target and --build-arg go with --file")
        }
        for argument in buildArguments where argument.isEmpty || argument.hasPrefix("=") {
            throw ValidationError("--build-arg \(argument): expected NAME=VALUE or NAME")
        }
    }

    /// `NAME` alone passes the environment's value, and is dropped when there is none (as docker does).
    func arguments() -> [String: String] {
        var values: [String: String] = [:]
        for argument in buildArguments {
            if let equals = argument.firstIndex(of: "=") {
                values[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
            } else if let value = ProcessInfo.processInfo.environment[argument] {
                values[argument] = value
            }
        }
        return values
    }
}

/// Builds what a project adopts instead of a devenv.toml: a Dockerfile named with
/// `--file`, or a `.devcontainer/devcontainer.json`.
enum AdoptedBuilding {
    /// `devenv build --file Dockerfile`: the context (default: the current directory) is the project.
    static func build(engine: Engine, dockerfile options: DockerfileOptions, file: String, noCache: Bool, frozen: Bool, explain: Bool, secrets: BuildSecrets = BuildSecrets()) throws -> BuildResult {
        let directory = try HostPath.currentDirectory()
        if frozen { throw LockError.notLocked("a Dockerfile build") }
        let context = absolute(options.context ?? directory, in: directory)
        let source = DockerfileBuild.Source(dockerfile: absolute(file, in: directory), displayPath: file, context: context,
                                            target: options.target, arguments: options.arguments())
        let state = ProjectState(layout: engine.store.layout, root: context)
        try state.claim(root: context)
        let build = DockerfileBuild(engine: engine, source: source, stateDirectory: state.directory,
                                    tag: Project.imageTag(root: context),
                                    labels: ["org.opencontainers.image.title": Project.name(root: context)])
        let progress = BuildProgress(explain: explain)
        let executor = progress.executor(RuntimeStepExecutor(store: engine.store, secrets: secrets))
        return afterBuild(engine, try build.build(noCache: noCache, executor: executor, onWait: waiting,
                                                  events: progress.events, warn: warning))
    }

    /// Builds a devcontainer.json project's image, saying what devenv does not adopt.
    static func build(engine: Engine, adopted: DevContainerProject, noCache: Bool, explain: Bool, secrets: BuildSecrets = BuildSecrets()) throws -> BuildResult {
        for message in adopted.warnings { warning(message) }
        for message in adopted.notes { Terminal.note("devenv: note: \(message)") }
        let progress = BuildProgress(explain: explain)
        let executor = progress.executor(RuntimeStepExecutor(store: engine.store, secrets: secrets))
        return afterBuild(engine, try adopted.build(engine: engine, noCache: noCache, executor: executor, onWait: waiting,
                                                    events: progress.events, warn: warning))
    }

    private static func afterBuild(_ engine: Engine, _ result: BuildResult) -> BuildResult {
        if result.rebuiltSteps > 0 { StoreMaintenance.afterWrite(engine, keeping: [result.image.manifestDescriptor.digest]) }
        return result
    }

    private static func waiting() {
        Terminal.note("waiting for another build of this project to finish…")
    }

    private static func warning(_ message: String) {
        Terminal.note("devenv: warning: \(message)")
    }

    private static func absolute(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : "\(directory)/\(path)"
    }
}
