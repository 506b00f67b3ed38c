import DevenvBuild
import DevenvGit
import DevenvManifest
import DevenvOCI
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

    init(project: Project, stateDirectory: String) {
        self.project = project
        self.stateDirectory = stateDirectory
        statCache = StatCache(path: "\(stateDirectory)/\(ProjectState.statCacheFile)")
        repository = try? GitRepository.discover(from: project.root)
    }

    func plan() throws -> [PlannedStep] {
        var workdir = "/"
        var planned: [PlannedStep] = []
        for step in project.manifest.steps {
            let location = project.location(Self.valueLocation(step) ?? step.location)
            switch step.action {
            case let .run(run):
                let mounts = run.cache.map(\.value)
                planned.append(PlannedStep(step: .run(command: run.command.value.arguments, cacheMounts: mounts, network: network(run.network)),
                                           cacheMounts: cacheMounts(mounts), location: location))
            case let .packages(packages):
                let names = packages.map(\.value)
                let mounts = PackageInstaller.cacheDirectories
                var step = PlannedStep(step: .run(command: PackageInstaller.command(installing: names), cacheMounts: mounts, network: .host),
                                       cacheMounts: cacheMounts(mounts), location: location)
                step.displaySummary = "packages " + names.joined(separator: " ")
                planned.append(step)
            case let .copy(copy):
                let destination = copy.destination?.value ?? (workdir.hasSuffix("/") ? workdir : workdir + "/")
                let items = try copyItems(copy.sources, location: location)
                planned.append(PlannedStep(step: .copy(sources: copy.sources.map(\.value), destination: destination),
                                           inputs: items.flatMap { $0.entries.map(\.input) }, location: location, copyItems: items))
            case let .env(variables):
                planned.append(PlannedStep(step: .env(variables.map { EnvironmentVariable(name: $0.name, value: $0.value) }), location: location))
            case let .workdir(path):
                workdir = ConfigEditor.resolve(path.value, from: workdir)
                planned.append(PlannedStep(step: .workdir(path.value), location: location))
            case let .user(user):
                planned.append(PlannedStep(step: .user(user.value.description), location: location))
            }
        }
        statCache.save()
        return planned
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

    private func network(_ network: Manifest.Network?) -> BuildNetwork {
        network == Manifest.Network.none ? .none : .host
    }

    /// Host directories backing cache mounts, private to this project.
    private func cacheMounts(_ paths: [String]) -> [StepExecution.CacheMount] {
        paths.map { path in
            let host = "\(stateDirectory)/cache/\(Digest.sha256(Data(path.utf8)).encoded.prefix(16))"
            try? FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            return StepExecution.CacheMount(hostPath: host, containerPath: path)
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
