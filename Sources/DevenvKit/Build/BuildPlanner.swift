import DevenvBuild
import DevenvGit
import DevenvManifest
import DevenvOCI
import DevenvPlan
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns a manifest's steps into the builder's steps: commands as argv, package lists as
/// package-manager commands with their download caches, copies as lists of files with
/// content digests (through the stat cache, so a no-op build reads no file twice).
struct BuildPlanner {
    let project: Project
    let stateDirectory: String
    let statCache: StatCache
    let repository: GitRepository?
    /// By step index: the versions the lock resolved a `packages` step to.
    let pins: [Int: PackageInstaller.Pins]

    init(project: Project, stateDirectory: String, pins: [Int: PackageInstaller.Pins] = [:]) {
        self.project = project
        self.stateDirectory = stateDirectory
        self.pins = pins
        statCache = StatCache(path: "\(stateDirectory)/\(ProjectState.statCacheFile)")
        repository = try? GitRepository.discover(from: project.root)
    }

    func plan() throws -> [PlannedStep] {
        var workdir = "/"
        var planned: [PlannedStep] = []
        for (index, step) in project.manifest.steps.enumerated() {
            let location = project.location(Self.valueLocation(step) ?? step.location)
            let (lowered, definition) = Self.lower(step.action, workdir: &workdir, pins: pins[index], layers: step.layers?.value)
            var items: [CopyItem] = []
            if case let .copy(copy) = step.action { items = try copyItems(copy.sources, location: location) }
            planned.append(PlannedStep(step: lowered, definition: definition, inputs: items.flatMap { $0.entries.map(\.input) },
                                       cacheMounts: try StepMounts.directories(for: lowered, stateDirectory: stateDirectory, projectRoot: project.root),
                                       location: location, copyItems: items, displaySummary: Self.displaySummary(step.action)))
        }
        statCache.save()
        return planned
    }

    /// A manifest step in the shared vocabulary, with its definition in the manifest's words
    /// (`run make`, `copy src -> /app/`). `workdir` tracks the working directory, where a
    /// copy without `to` lands.
    static func lower(_ action: Manifest.Step.Action, workdir: inout String, pins: PackageInstaller.Pins? = nil, layers: Int? = nil) -> (Step, String) {
        switch action {
        case let .run(run):
            let command = run.command.value.arguments
            let step = RunStep(command: command, cacheMounts: run.cache.map { CacheMount(target: $0.value) },
                               network: run.network == Manifest.Network.none ? .none : .host, secrets: run.secrets.map(secretMount))
            return (.run(step), runDefinition(command))
        case let .packages(packages):
            let command = PackageInstaller.command(installing: packages.map(\.value), pins: pins)
            let step = RunStep(command: command, cacheMounts: PackageInstaller.cacheDirectories.map { CacheMount(target: $0) },
                               packageLayers: PackageLayers(limit: layers ?? PackageLayers.defaultLimit))
            return (.run(step), runDefinition(command))
        case let .copy(copy):
            let destination = copy.destination?.value ?? (workdir.hasSuffix("/") ? workdir : workdir + "/")
            let sources = copy.sources.map(\.value)
            return (.copy(CopyStep(sources: sources, destination: destination)), "copy \(sources.joined(separator: " ")) -> \(destination)")
        case let .env(variables):
            let values = variables.map { EnvironmentVariable(name: $0.name, value: $0.value) }
            return (.config([.env(values, expands: true)]), "env " + values.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
        case let .workdir(path):
            workdir = ConfigEditor.resolve(path.value, from: workdir)
            return (.workdir(WorkdirStep(path: path.value, createsDirectory: false)), "workdir \(path.value)")
        case let .user(user):
            return (.config([.user(user.value.description)]), "user \(user.value.description)")
        }
    }

    /// A manifest secret names its file, so a step never runs without it.
    private static func secretMount(_ secret: Manifest.Step.Secret) -> SecretMount {
        let target = secret.target ?? (secret.environmentName == nil ? SecretMount.defaultTarget(id: secret.id) : nil)
        return SecretMount(kind: .secret, id: secret.id, target: target, environmentName: secret.environmentName, required: true,
                           uid: secret.uid, gid: secret.gid, mode: secret.mode)
    }

    /// The steps as the lock identifies them: lowered without the lock's package pins, so
    /// recording what a `packages` step resolved to does not change what the step is.
    static func unpinnedSteps(_ manifest: Manifest) -> [Step] {
        var workdir = "/"
        return manifest.steps.map { lower($0.action, workdir: &workdir, layers: $0.layers?.value).0 }
    }

    private static func runDefinition(_ command: [String]) -> String {
        if command.count == 3, command[0] == "/bin/sh", command[1] == "-c" { return "run \(command[2])" }
        return "run \(command.joined(separator: " "))"
    }

    /// A package step is a generated installer script: "packages git make" reads better.
    private static func displaySummary(_ action: Manifest.Step.Action) -> String? {
        guard case let .packages(packages) = action else { return nil }
        return "packages " + packages.map(\.value).joined(separator: " ")
    }

    /// The line of the step's defining value (`run = …`), more precise than its `[[step]]`.
    static func valueLocation(_ step: Manifest.Step) -> SourceLocation? {
        switch step.action {
        case let .run(run): return run.command.location
        case let .copy(copy): return copy.sources.first?.location
        case let .env(variables): return variables.map(\.location).min()
        case let .workdir(path): return path.location
        case let .user(user): return user.location
        case let .packages(packages): return packages.first?.location
        }
    }

    // MARK: Copy sources

    /// What each copy source contributes: a directory its contents (what git tracks or
    /// would track, in a repository), a file or symlink itself. Where they land is the
    /// builder's business (it resolves the destination inside the image).
    private func copyItems(_ sources: [Located<String>], location: String) throws -> [CopyItem] {
        try sources.map { source in
            let relative = normalize(source.value)
            let absolute = relative.isEmpty ? project.root : "\(project.root)/\(relative)"
            try confine(absolute, source: source.value, location: location)
            var info = stat()
            guard lstat(absolute, &info) == 0 else {
                throw KitError.copySource(location: location, instruction: "copy", source: source.value, problem: .missing(scope: .project, excludedBy: nil))
            }
            let name = relative.isEmpty ? (project.root as NSString).lastPathComponent : (relative as NSString).lastPathComponent
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                let input = try statCache.input(absolute: absolute, relative: relative)
                return CopyItem(name: name, kind: .file, entries: [CopyEntry(source: absolute, relative: "", input: input)])
            }
            let entries = try listDirectory(relative).map { file -> CopyEntry in
                let inside = relative.isEmpty ? file : String(file.dropFirst(relative.count + 1))
                return CopyEntry(source: "\(project.root)/\(file)", relative: inside,
                                 input: try statCache.input(absolute: "\(project.root)/\(file)", relative: file))
            }
            return CopyItem(name: name, kind: .directory, entries: entries)
        }
    }

    /// Project-relative files under `relative` (which may be empty for the whole project).
    private func listDirectory(_ relative: String) throws -> [String] {
        if let repository {
            let prefix = relativeToRepository(relative, repository: repository)
            let listed = try repository.trackedAndUnignoredFiles(under: prefix)
            let strip = relativeToRepository("", repository: repository)
            return listed.map { strip.isEmpty ? $0 : String($0.dropFirst(strip.count + 1)) }
                .filter { !$0.hasPrefix("..") }
                .sorted()
        }
        var result: [String] = []
        try walk(relative, into: &result)
        return result.sorted()
    }

    private func relativeToRepository(_ relative: String, repository: GitRepository) -> String {
        let workdir = repository.workdir.hasSuffix("/") ? String(repository.workdir.dropLast()) : repository.workdir
        let absolute = relative.isEmpty ? project.root : "\(project.root)/\(relative)"
        guard absolute.hasPrefix(workdir) else { return relative }
        return String(absolute.dropFirst(workdir.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    /// Outside git: every file, symlink (not followed) and nothing under `.git`.
    private func walk(_ relative: String, into result: inout [String]) throws {
        let absolute = relative.isEmpty ? project.root : "\(project.root)/\(relative)"
        for name in try FileManager.default.contentsOfDirectory(atPath: absolute) where name != ".git" {
            let child = relative.isEmpty ? name : "\(relative)/\(name)"
            var info = stat()
            guard lstat("\(project.root)/\(child)", &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                try walk(child, into: &result)
            } else {
                result.append(child)
            }
        }
    }

    private func normalize(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }

    /// A source must not leave the project through a symlinked directory.
    private func confine(_ absolute: String, source: String, location: String) throws {
        let parent = (absolute as NSString).deletingLastPathComponent
        guard let resolvedParent = realpath(parent, nil), let resolvedRoot = realpath(project.root, nil) else { return }
        defer { free(resolvedParent); free(resolvedRoot) }
        let parentPath = String(cString: resolvedParent)
        let rootPath = String(cString: resolvedRoot)
        guard absolute == project.root || parentPath == rootPath || parentPath.hasPrefix(rootPath + "/") else {
            throw KitError.copySource(location: location, instruction: "copy", source: source, problem: .escapes(scope: .project))
        }
    }
}
