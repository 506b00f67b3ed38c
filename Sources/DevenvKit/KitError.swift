import DevenvOCI
import DevenvText

/// Errors of devenv's use cases (import, export, build inputs, sessions, the lock file…)
/// that are not a lower module's. Each case names the operation and the object; values
/// that come from files or the command line are escaped when the message is made.
public enum KitError: Error, CustomStringConvertible, Sendable, Equatable {
    case importFailed(source: String, reason: String)
    case exportFailed(image: String, reason: String)
    /// Neither a `.devenv/devenv.toml` nor a devcontainer.json around the directory.
    case projectNotFound(String)
    /// devenv's helper in the user namespace failed; its own message (already escaped).
    case helperFailed(String)

    // MARK: Project files

    /// `root` has no devcontainer.json although one was expected there.
    case devContainerNotFound(root: String)
    /// Writing `path` would replace a file; `hint` says how to go ahead.
    case wouldOverwrite(path: String, hint: String)
    /// `path` must be a directory; `purpose` (if any) says why.
    case notADirectory(path: String, purpose: String?)
    /// The lock file at `path` (line `line`) cannot be used.
    case invalidLockFile(path: String, line: Int?, problem: String)
    /// A manifest value (at `location`, e.g. `.devenv/devenv.toml:3:10`) that the use case rejects.
    case invalidManifestValue(location: String, key: String, reason: String)

    // MARK: Commands a project kind cannot do

    /// `devenv lock` (or `--frozen`) for a project whose base has no lock; `hint` says how to pin it.
    case notLockable(project: String, reason: String, hint: String)
    /// `command` does not support what `project` is built from.
    case unsupported(command: String, project: String, what: String, hint: String)
    /// `--push` without a `[cache] registry` in `manifest`.
    case noCacheRegistry(manifest: String)

    // MARK: Sessions

    /// `devenv run NAME` when `project` has no task `name`.
    case noSuchTask(name: String, project: String, available: [String])
    /// `devenv run NAME` in a project kind that has no `[tasks]`.
    case noTasks(project: String)
    /// A build step's secret or SSH agent (`id`) cannot be given to it.
    case buildSecret(id: String, problem: String)
    /// A `run`/`shell` option that means nothing in a project, and why.
    case notInProject(option: String, reason: String)
    /// A `[shell] mounts` entry from `~` when no home directory is known.
    case noHomeForMount(target: String)
    /// A project mount a session cannot make (`where`: the file and the container path).
    case sessionMount(where: String, problem: String)
    /// `[shell] home = "persistent"` could not be prepared.
    case persistentHome(problem: String)

    // MARK: Build inputs

    /// A copy source (`instruction` is `copy`, `COPY` or `ADD`, at `location`) that cannot be used.
    case copySource(location: String, instruction: String, source: String, problem: SourceProblem)
    /// No file matched any of `patterns`.
    case noSourceMatched(location: String, instruction: String, patterns: [String])
    /// Several sources copied to a destination that is not a directory.
    case destinationNotDirectory(location: String, instruction: String, sources: Int)
    /// `COPY --from=stage` of a path that the stage (or image) does not have.
    case notInStage(location: String, instruction: String, stage: String, path: String)
    /// A stage used before it was built (a planner bug, reported rather than crashing).
    case stageNotBuilt(location: String?, stage: Int)
    /// A Dockerfile whose target has no stage to build.
    case nothingToBuild(dockerfile: String)
    /// `ADD` of a local archive in a compression devenv does not unpack.
    case unsupportedArchive(location: String, name: String, format: String)
    /// `ADD <url>` whose download failed (`reason` is the transfer's own error).
    case downloadFailed(location: String, url: String, reason: String)
    /// A Dev Container Feature (asked for at `location`) that cannot be fetched or used.
    case feature(location: String, reference: String, reason: String)
    /// A step's `user` or group that the image's account files do not list.
    case unknownAccount(kind: AccountKind, name: String)

    // MARK: Command-line values

    /// `option` given `value`, which is none of `allowed`.
    case invalidOption(option: String, value: String, allowed: [String])
    /// A service (`[services.NAME]`) that could not be started, stopped or found; `problem`
    /// says why, with a hint line where the fix is known.
    case service(name: String, problem: String)
    /// A service's named volume that could not be created or removed.
    case volume(name: String, problem: String)
    /// `devenv kube generate` cannot describe the project for Kubernetes; `problem` is escaped.
    case kube(problem: String)

    public enum SourceProblem: Sendable, Equatable {
        /// Not found in `scope`; `excludedBy` names the ignore file that hides it.
        case missing(scope: SourceScope, excludedBy: String?)
        case notFileOrDirectory(scope: SourceScope)
        /// Resolves, through a symlink, to a path outside `scope`.
        case escapes(scope: SourceScope)
    }

    public enum SourceScope: String, Sendable, Equatable {
        case project = "the project"
        case buildContext = "the build context"
    }

    public enum AccountKind: Sendable, Equatable {
        case user, group

        var file: String { self == .user ? "/etc/passwd" : "/etc/group" }
    }

    public var description: String {
        switch self {
        case let .importFailed(source, reason):
            return "import '\(Printable.escape(source))': \(reason)"
        case let .exportFailed(image, reason):
            return "export '\(Printable.escape(image))': \(reason)"
        case let .helperFailed(message):
            return message
        case let .projectNotFound(directory):
            return "no .devenv/devenv.toml in '\(Printable.escape(directory))' or any parent directory\nhint: `devenv init` creates one"
        case let .devContainerNotFound(root):
            return "no devcontainer.json in \(quoted(root))"
        case let .wouldOverwrite(path, hint):
            return "\(quoted(path)) already exists; \(hint)"
        case let .notADirectory(path, purpose):
            return "\(quoted(path)) is not a directory" + (purpose.map { "; \($0)" } ?? "")
        case let .invalidLockFile(path, line, problem):
            return "\(Printable.escape(path))\(line.map { ":\($0)" } ?? ""): \(problem); run `devenv lock` to rewrite the lock file"
        case let .invalidManifestValue(location, key, reason):
            return "\(location): error: \(key): \(reason)"
        case let .notLockable(project, reason, hint):
            return "\(project): \(reason); \(hint)"
        case let .unsupported(command, project, what, hint):
            return "\(project): `\(command)` does not support \(what) yet; \(hint)"
        case let .noCacheRegistry(manifest):
            return "--push needs a [cache] registry in \(manifest)"
        case let .noSuchTask(name, project, available):
            return "no task '\(Printable.escape(name))' in \(project)"
                + (NearestWord.nearest(to: name, among: available).map { " (did you mean '\($0)'?)" } ?? "")
                + (available.isEmpty ? "; it defines no [tasks]" : "; tasks: \(available.joined(separator: ", "))")
                + "\nhint: to run a command, put it after --: devenv run -- \(Printable.escape(name))"
        case let .buildSecret(id, problem):
            return "build secret '\(Printable.escape(id))': \(problem)"
        case let .notInProject(option, reason):
            return "\(option) does not apply in a project: \(reason)"
        case let .noTasks(project):
            return "\(project) projects have no [tasks]; run a command with: devenv run -- CMD"
        case let .persistentHome(problem):
            return "[shell] home = \"persistent\": \(problem)"
        case let .noHomeForMount(target):
            return "[shell] mounts: \(Printable.escape(target)) is mounted from ~, but HOME is not an absolute path and the account database has no home directory for this user"
        case let .sessionMount(place, problem):
            return "\(place): \(problem)"
        case let .copySource(location, instruction, source, problem):
            return "\(location): \(instruction) source '\(Printable.escape(source))' \(problem.phrase)"
        case let .noSourceMatched(location, instruction, patterns):
            return "\(location): \(instruction): no source files matched \(patterns.map { "'\(Printable.escape($0))'" }.joined(separator: ", "))"
        case let .destinationNotDirectory(location, instruction, sources):
            return "\(location): \(instruction): the sources match \(sources) files, so the destination must be a directory ending in '/'"
        case let .notInStage(location, instruction, stage, path):
            return "\(location): \(instruction) --from=\(Printable.escape(stage)): '\(Printable.escape(path))' does not exist there"
        case let .stageNotBuilt(location, stage):
            return (location.map { "\($0): " } ?? "") + "stage \(stage) was not built"
        case let .nothingToBuild(dockerfile):
            return "\(dockerfile): nothing to build"
        case let .unsupportedArchive(location, name, format):
            return "\(location): ADD of '\(Printable.escape(name))': \(format) archives are not supported (gzip and zstd are); unpack it in a RUN step"
        case let .downloadFailed(location, url, reason):
            return "\(location): ADD \(Printable.escape(url)): \(reason)"
        case let .feature(location, reference, reason):
            return "\(location): feature '\(Printable.escape(reference, limit: 200))': \(reason)"
        case let .unknownAccount(kind, name):
            return "\(kind == .user ? "user" : "group") \(Printable.quoted(name)) is not in the image's \(kind.file)"
        case let .invalidOption(option, value, allowed):
            return "\(option) must be \(Self.alternatives(allowed)), not '\(Printable.escape(value))'"
        case let .service(name, problem):
            return "service '\(Printable.escape(name))': \(problem)"
        case let .volume(name, problem):
            return "volume '\(Printable.escape(name))': \(problem)"
        case let .kube(problem):
            return "kube generate: \(problem)"
        }
    }

    /// `a`, `a or b`, `a, b or c`.
    static func alternatives(_ words: [String]) -> String {
        guard let last = words.last else { return "" }
        let rest = words.dropLast()
        return rest.isEmpty ? last : "\(rest.joined(separator: ", ")) or \(last)"
    }
}

extension KitError.SourceProblem {
    var phrase: String {
        switch self {
        case let .missing(scope, excludedBy):
            let found = scope == .project ? "does not exist in \(scope.rawValue)" : "is not in \(scope.rawValue)"
            return found + (excludedBy.map { " (\($0) excludes it)" } ?? "")
        case .notFileOrDirectory:
            return "is not a file or a directory"
        case let .escapes(scope):
            return "leads outside \(scope.rawValue) through a symlink"
        }
    }
}
