import DevenvBuild
import DevenvManifest
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `devenv gc`, `devenv gc --max-size` and the automatic budget after builds and pulls:
/// what the store may remove, as the Kit knows it (projects, their build records, build-cache
/// entries, cache mounts), handed to the store's collector as a plan.
public struct StoreBudget {
    public let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    /// Without a budget: everything unreachable, including the build-cache entries of layers
    /// no image uses, and the images and state of projects whose directory is gone. With
    /// one: build-cache entries, cache mounts and images also stay, unless the least
    /// recently used of them must go for the store to fit.
    public func collect(dryRun: Bool, maxSize: Int64?, onWait: (() -> Void)? = nil) throws -> GarbageCollector.Report {
        let plan = try plan(budget: maxSize)
        var report = try GarbageCollector(store: engine.store).collect(plan, dryRun: dryRun, onWait: onWait)
        finish(&report)
        return report
    }

    /// After a build or pull that wrote something: the user's `[store] max-size` or the
    /// default. Never waits (nil when another devenv is writing to the store, or when
    /// nothing had to go).
    /// `keeping`: what the command is about to use (the image it just built or pulled).
    public func applyAutomatically(config: UserConfig, keeping: [Digest] = []) throws -> GarbageCollector.Report? {
        let budget: Int64
        switch config.storeMaxSize {
        case .off: return nil
        case let .bytes(bytes): budget = bytes
        case .automatic: budget = Self.defaultBudget(storeRoot: engine.store.layout.root)
        }
        var plan = try plan(budget: budget)
        plan.pinned += keeping
        guard var report = try GarbageCollector(store: engine.store).collectIfIdle(plan) else { return nil }
        finish(&report)
        return report.evicted.isEmpty && report.removedNames.isEmpty ? nil : report
    }

    /// `devenv df`.
    public func usage() throws -> StoreUsage {
        try GarbageCollector(store: engine.store).usage(try plan(budget: 0))
    }

    /// BuildKit's rule of thumb: a tenth of the file system the store is on, here kept
    /// between 2 GB and 100 GB.
    public static func defaultBudget(storeRoot: String) -> Int64 {
        var info = statvfs()
        guard statvfs(storeRoot, &info) == 0 else { return 10_000_000_000 }
        let tenth = Int64(info.f_blocks) * Int64(info.f_frsize) / 10
        return min(max(tenth, 2_000_000_000), 100_000_000_000)
    }

    private func finish(_ report: inout GarbageCollector.Report) {
        let cache = BuildCache(layout: engine.store.layout)
        let evictedEntries = report.evicted.filter { $0.kind == .buildCache }.map(\.id)
        if report.dryRun {
            let removed = Set(report.removedBlobs)
            report.removedRecords = evictedEntries + cache.all().compactMap { entry in
                entry.producedLayers.contains { removed.contains($0.descriptor.digest.description) } ? cache.file(entry.key) : nil
            }
        } else {
            report.removedRecords = evictedEntries + cache.pruneMissingLayers()
        }
    }

    func plan(budget: Int64?) throws -> GarbageCollector.Plan {
        let projects = ProjectStates(layout: engine.store.layout, store: engine.store)
        var plan = GarbageCollector.Plan(budget: budget)
        let names = try engine.store.references.list().map(\.name)
        for project in projects.all {
            if project.isGone {
                plan.dropNames += names.filter { ProjectState.owner(ofImage: $0) == project.id }
                plan.dropPaths += project.directories
                continue
            }
            plan.pinned += project.pinnedBases()
            guard budget != nil else { continue }
            for directory in project.directories {
                let mounts = "\(directory)/cache"
                for name in (try? FileManager.default.contentsOfDirectory(atPath: mounts)) ?? [] where !name.hasPrefix(".") {
                    let path = "\(mounts)/\(name)"
                    plan.candidates.append(.init(kind: .cacheMount, id: path, lastUsed: AccessTimes.modified(path) ?? 0,
                                                 path: path, bytes: DiskUsage.bytes(path)))
                }
            }
        }
        guard budget != nil else { return plan }
        let cache = BuildCache(layout: engine.store.layout)
        for entry in cache.all() {
            let file = cache.file(entry.key)
            plan.candidates.append(.init(kind: .buildCache, id: file, lastUsed: AccessTimes.modified(file) ?? 0,
                                         blobs: entry.producedLayers.map(\.descriptor.digest), path: file))
        }
        return plan
    }
}

/// gc's view of the per-project state (ProjectState), grouped by project (a Dockerfile's
/// stages have their own directories), with the directory each belongs to.
struct ProjectStates {
    struct State {
        var id: String
        var states: [ProjectState]
        /// nil when the store does not know (state from before `project.json`, no image).
        var root: String?

        /// Only a root known and certainly absent counts: anything else keeps the project.
        var isGone: Bool {
            guard let root else { return false }
            var info = stat()
            return lstat(root, &info) != 0 && errno == ENOENT
        }

        var directories: [String] { states.map(\.directory) }

        /// The bases its builds and its lock pinned: gc never removes them.
        func pinnedBases() -> [Digest] {
            var bases = states.compactMap { $0.record()?.baseDigest }
            if let root, let lock = try? Lockfile.load(path: "\(root)/\(ProjectLocator.lockPath)") { bases += lock.imageDigests }
            return bases
        }
    }

    let all: [State]

    init(layout: StoreLayout, store: ImageStore) {
        var grouped: [String: [ProjectState]] = [:]
        for state in ProjectState.all(in: layout) { grouped[state.projectID, default: []].append(state) }
        let labelled = Self.rootsFromImages(store)
        all = grouped.keys.sorted().map { id in
            State(id: id, states: grouped[id] ?? [], root: ProjectState(layout: layout, id: id).recordedRoot ?? labelled[id])
        }
    }

    /// For state from before `project.json`: the project label of the project's image
    /// (devenv no longer writes it: an image carries no host path).
    private static func rootsFromImages(_ store: ImageStore) -> [String: String] {
        var roots: [String: String] = [:]
        for entry in (try? store.references.list()) ?? [] {
            guard let id = ProjectState.owner(ofImage: entry.name), roots[id] == nil,
                  let image = try? store.load(name: entry.name, descriptor: entry.descriptor),
                  let root = image.config.config?.labels?["dev.devenv.project"], root.hasPrefix("/") else { continue }
            roots[id] = root
        }
        return roots
    }

}
