import DevenvGit
import DevenvManifest
import DevenvOCI
import DevenvRegistry
import DevenvRuntime
import DevenvSeccomp
import DevenvStore
import DevenvText
import Foundation

/// `devenv kube generate`: gathers what the pod needs from the store, the registry and git,
/// and hands it to `PodGenerator` (docs/kubernetes.md).
public struct KubeExport {
    public enum WorkspaceSource: String, Sendable, CaseIterable {
        case clone
        case host
    }

    public struct Options: Sendable {
        public var kind: KubeRequest.Kind = .pod
        public var workspace: WorkspaceSource = .clone
        /// The clone init container's image; nil: the environment image.
        public var cloneImage: String?
        public var volumeSize = "1Gi"

        public init() {}
    }

    public let engine: Engine
    public let project: Project

    public init(engine: Engine, project: Project) {
        self.engine = engine
        self.project = project
    }

    public func generate(_ options: Options) throws -> KubeManifest {
        let (image, stored) = try pushedImage()
        var notes: [String] = []
        let workspace: KubeRequest.Workspace
        switch options.workspace {
        case .host:
            workspace = .host(path: project.root)
        case .clone:
            let (clone, cloneNotes) = try cloneWorkspace(image: options.cloneImage)
            workspace = clone
            notes += cloneNotes
        }
        let capabilities = CapabilitySet.containerDefault.capabilities.map { $0.shortName.uppercased() }
        let request = KubeRequest(name: project.name, image: image, manifest: project.manifest, workspace: workspace, kind: options.kind,
                                  imageEnvironment: stored.config.config?.env ?? [], runAs: try runAs(stored), capabilities: capabilities, volumeSize: options.volumeSize)
        var manifest = try PodGenerator.generate(request)
        manifest.notes = notes + manifest.notes
        return manifest
    }

    /// The environment as `devenv build --push` published it: `[cache] registry` at the
    /// built image's cache key, pinned to the digest the registry holds there.
    func pushedImage() throws -> (reference: String, image: StoredImage) {
        let hint = "\nhint: `devenv build --push` builds the environment and pushes it to the [cache] registry"
        guard project.manifest.cache != nil else {
            throw KitError.kube(problem: "a cluster pulls the environment image from a registry, and \(project.displayPath) has no [cache] registry"
                                + "\nhint: add [cache] registry = \"REGISTRY/REPOSITORY\", then `devenv build --push`")
        }
        guard let stored = try? engine.store.image(project.imageTag) else {
            throw KitError.kube(problem: "the environment has not been built here, so no image of it was pushed" + hint)
        }
        let build = ProjectBuild(engine: engine, project: project)
        guard let key = stored.config.config?.labels?[ProjectBuild.cacheKeyLabel].flatMap({ try? Digest(parsing: $0) }),
              let reference = try build.prebuiltReference(key: key) else {
            throw KitError.kube(problem: "the environment image has no cache key to push it under (a [base] dockerfile project's image is not pushed by `devenv build --push`)")
        }
        let descriptor: Descriptor?
        do {
            descriptor = try engine.registry().exists(reference)
        } catch {
            throw KitError.kube(problem: "check whether the environment was pushed to \(reference.familiar): \(error)")
        }
        guard let descriptor else {
            throw KitError.kube(problem: "the environment image was never pushed: \(reference.familiar) is not in the registry" + hint)
        }
        return (Reference(registry: reference.registry, repository: reference.repository, digest: descriptor.digest).description, stored)
    }

    /// The image user's ids, from its own account files when it is named.
    private func runAs(_ image: StoredImage) throws -> KubeRequest.RunAs? {
        guard let user = image.config.config?.user, !user.isEmpty else { return nil }
        let (lowerDirs, lease) = try engine.store.mount(image)
        defer { withExtendedLifetime(lease) {} }
        let resolved = try ImageAccounts.resolve(user, lowerDirs: lowerDirs)
        return KubeRequest.RunAs(uid: resolved.uid, gid: resolved.gid)
    }

    private func cloneWorkspace(image: String?) throws -> (KubeRequest.Workspace, notes: [String]) {
        let hint = "\nhint: `--workspace host` mounts the project directory of the node instead"
        guard let repository = try GitRepository.discover(from: project.root) else {
            throw KitError.kube(problem: "\(quoted(project.root)) is not in a git repository, so a pod cannot clone it" + hint)
        }
        guard let commit = try repository.headCommit else {
            throw KitError.kube(problem: "the repository at \(quoted(repository.workdir)) has no commit yet to clone" + hint)
        }
        guard let remote = try repository.defaultRemote else {
            let names = try repository.remoteNames()
            throw KitError.kube(problem: names.isEmpty
                ? "the repository at \(quoted(repository.workdir)) has no remote for a pod to clone it from" + hint
                : "the repository has several remotes (\(names.map { Printable.escape($0) }.joined(separator: ", "))), none of them origin or the branch's upstream" + hint)
        }
        let (url, removed) = try KubeRemote.cloneURL(remote.url, remote: remote.name)
        var notes: [String] = []
        if removed { notes.append("the credentials in the URL of remote '\(Printable.escape(remote.name))' are left out of the pod; give the cluster its own access to the repository") }
        if try repository.isDirty { notes.append("uncommitted changes are not in the pod: it clones commit \(commit.prefix(12)), which must be pushed to '\(Printable.escape(remote.name))'") }
        let root = Self.real(project.root), top = Self.real(repository.workdir)
        let subdirectory = root == top ? "" : root.hasPrefix(top + "/") ? String(root.dropFirst(top.count + 1)) : ""
        return (.clone(url: url, commit: commit, subdirectory: subdirectory, image: image), notes)
    }

    private static func real(_ path: String) -> String {
        (path as NSString).resolvingSymlinksInPath
    }
}
