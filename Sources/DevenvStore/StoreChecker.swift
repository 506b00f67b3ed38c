import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Verifies what the store's writers promise (`devenv check`): every blob hashes to its
/// name, every name in `index.json` reaches a manifest, a config and layers that are all
/// present, intact and of their declared sizes, and every snapshot directory has a marker
/// for its chain id (with the DiffID the images using it expect). With `repair`, what is
/// damaged is removed so the next pull or build makes it again. Run it under
/// `ImageStore.withExclusiveAccess`: nobody may be writing while it looks.
public struct StoreChecker {
    public struct Finding: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable {
            case index, blob, image, snapshot, record, leftover
        }

        public var kind: Kind
        /// The digest, name or path concerned (untrusted: escape before printing).
        public var object: String
        public var problem: String
        /// Leftovers (interrupted work gc removes) are reported but are not damage.
        public var isDamage: Bool
        /// What `repair` removed, nil when nothing was (not repairing, or it failed).
        public var repaired: String?

        public init(kind: Kind, object: String, problem: String, isDamage: Bool = true) {
            self.kind = kind
            self.object = object
            self.problem = problem
            self.isDamage = isDamage
        }
    }

    public struct Report: Codable, Sendable {
        public var blobs = 0
        public var images = 0
        public var snapshots = 0
        public var records = 0
        public var findings: [Finding] = []
        public var repair: Bool

        public init(repair: Bool) { self.repair = repair }

        public var damage: [Finding] { findings.filter(\.isDamage) }
        /// Damage found and not repaired.
        public var unrepaired: [Finding] { damage.filter { $0.repaired == nil } }
    }

    public let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    /// Blobs, names and snapshots; `report.findings` lists what is wrong. `missingBlobs`
    /// afterwards names every blob that is absent or was found damaged (so callers checking
    /// their own records against the store, like the build cache, see the same truth).
    public func check(repair: Bool, into report: inout Report) throws -> Set<Digest> {
        var bad = checkBlobs(repair: repair, into: &report)
        let expected = try checkImages(bad: &bad, repair: repair, into: &report)
        checkSnapshots(expected: expected, repair: repair, into: &report)
        return bad
    }

    // MARK: Blobs

    /// Hashes every blob; returns the digests whose file does not hash to its name.
    private func checkBlobs(repair: Bool, into report: inout Report) -> Set<Digest> {
        var bad = Set<Digest>()
        let (blobs, strays) = (try? store.content.list()) ?? ([], [])
        for path in strays {
            var finding = Finding(kind: .leftover, object: path, problem: "not named after a digest", isDamage: false)
            if repair, (try? DirectoryRemover.remove(path)) != nil { finding.repaired = "removed" }
            report.findings.append(finding)
        }
        for (digest, _) in blobs {
            report.blobs += 1
            let problem: String?
            do {
                try store.content.verify(digest)
                problem = nil
            } catch StoreError.corrupt(_, let reason) {
                problem = String(reason.prefix { $0 != "\n" })
            } catch {
                problem = "\(error)"
            }
            guard let problem else { continue }
            bad.insert(digest)
            var finding = Finding(kind: .blob, object: digest.description, problem: problem)
            if repair, (try? store.content.delete(digest)) != nil { finding.repaired = "removed the blob" }
            report.findings.append(finding)
        }
        return bad
    }

    // MARK: Names

    /// Walks every name to its manifest, config and layers. A name whose image is not whole
    /// is damage; repair removes the name (the image is pulled or built again when next
    /// used). Returns the DiffID each snapshot key should record, from the intact images.
    private func checkImages(bad: inout Set<Digest>, repair: Bool, into report: inout Report) throws -> [String: Digest] {
        let entries: [ReferenceStore.Entry]
        do {
            entries = try store.references.list()
        } catch {
            var finding = Finding(kind: .index, object: store.layout.indexFile, problem: "\(error)")
            if repair, (try? resetIndex()) != nil { finding.repaired = "moved it aside and started an empty index (every name is gone; pull or build again)" }
            report.findings.append(finding)
            return [:]
        }
        var expected: [String: Digest] = [:]
        for entry in entries {
            report.images += 1
            do {
                for (chainID, diffID) in try walk(entry.descriptor, bad: bad, depth: 0) {
                    expected[SnapshotStore.key(chainID)] = diffID
                }
            } catch let problem as Problem {
                var finding = Finding(kind: .image, object: entry.name, problem: problem.text)
                if repair, (try? store.references.remove(entry.name)) != nil {
                    finding.repaired = "removed the name; the next pull or build makes the image again"
                }
                report.findings.append(finding)
            }
        }
        return expected
    }

    struct Problem: Error { let text: String }

    /// The (chain id, DiffID) pairs of the image(s) `descriptor` reaches, or the first thing
    /// missing or damaged on the way.
    private func walk(_ descriptor: Descriptor, bad: Set<Digest>, depth: Int) throws -> [(Digest, Digest)] {
        guard depth < 8 else { throw Problem(text: "image indexes nest more than 8 deep") }
        let data = try blob(descriptor, role: "manifest", bad: bad)
        let parsed: OCIDocument.Parsed
        do {
            parsed = try OCIDocument.parse(data, declaredType: descriptor.mediaType)
        } catch {
            throw Problem(text: "manifest \(descriptor.digest): \(error)")
        }
        switch parsed {
        case let .index(index):
            return try index.manifests.flatMap { child -> [(Digest, Digest)] in
                // An index may name platforms that were never pulled; only present ones count.
                guard store.content.contains(child.digest) || bad.contains(child.digest) else { return [] }
                return try walk(child, bad: bad, depth: depth + 1)
            }
        case let .manifest(manifest):
            let configData = try blob(manifest.config, role: "config", bad: bad)
            let config: ImageConfig
            do {
                config = try OCIDocument.decode(configData, as: "image config")
                try config.validate(layerCount: manifest.layers.count)
            } catch {
                throw Problem(text: "config \(manifest.config.digest): \(error)")
            }
            for layer in manifest.layers { try presence(layer, role: "layer", bad: bad) }
            return Array(zip(config.chainIDs, config.rootfs.diffIDs))
        }
    }

    /// Checks `descriptor`'s blob is present, intact and of the declared size.
    private func presence(_ descriptor: Descriptor, role: String, bad: Set<Digest>) throws {
        let digest = descriptor.digest
        guard !bad.contains(digest) else { throw Problem(text: "its \(role) \(digest) is damaged") }
        guard let size = try? store.content.size(of: digest) else { throw Problem(text: "its \(role) \(digest) is missing") }
        guard size == descriptor.size else {
            throw Problem(text: "its \(role) \(digest) is \(size) bytes, but \(descriptor.size) are declared")
        }
    }

    private func blob(_ descriptor: Descriptor, role: String, bad: Set<Digest>) throws -> Data {
        try presence(descriptor, role: role, bad: bad)
        do {
            return try store.content.read(descriptor.digest)
        } catch {
            throw Problem(text: "its \(role) \(descriptor.digest): \(error)")
        }
    }

    /// Keeps the unreadable index for whoever wants to look at it, and starts over.
    private func resetIndex() throws {
        let layout = store.layout
        try StoreError.wrap {
            try AtomicFile.rename(layout.indexFile, to: "\(layout.indexFile).corrupt-\(UUID().uuidString)")
            try AtomicFile.write(OCIDocument.encode(ImageIndex(manifests: [])), to: layout.indexFile)
        }
    }

    // MARK: Snapshots

    /// Every directory under `snapshots/` needs a marker naming its chain id and, when an
    /// image uses it, that image's DiffID; a snapshot without one may be missing files.
    private func checkSnapshots(expected: [String: Digest], repair: Bool, into report: inout Report) {
        let snapshots = store.snapshots
        let layout = store.layout
        let (directories, markers, work) = snapshots.list()
        // A running environment keeps its lower dirs mounted: never pull one from under it.
        let inUse = Set(Lease.live(layout: layout).flatMap(\.snapshots))
        for name in work {
            var finding = Finding(kind: .leftover, object: "\(layout.snapshots)/\(name)", problem: "left by an interrupted unpack or deletion", isDamage: false)
            if repair, (try? DirectoryRemover.remove("\(layout.snapshots)/\(name)")) != nil { finding.repaired = "removed" }
            report.findings.append(finding)
        }
        for key in directories {
            report.snapshots += 1
            guard let problem = snapshotProblem(key, expected: expected[key]) else {
                if let chainID = Self.chainID(key: key), snapshots.marker(for: chainID)?.isCurrent == false {
                    // Not damage: the layer is intact, and the next use unpacks it again.
                    var finding = Finding(kind: .leftover, object: "\(layout.snapshots)/\(key)",
                                          problem: "unpacked by an older devenv (snapshot format before \(SnapshotMarker.currentFormat)): not used, the next use unpacks the layer again",
                                          isDamage: false)
                    if repair, !inUse.contains(key), (try? snapshots.discard(key: key)) != nil { finding.repaired = "removed" }
                    report.findings.append(finding)
                }
                continue
            }
            var finding = Finding(kind: .snapshot, object: "\(layout.snapshots)/\(key)", problem: problem)
            if repair, inUse.contains(key) {
                finding.problem += "; not removed: a running environment uses it (run check --repair again after it exits)"
            } else if repair, (try? snapshots.discard(key: key)) != nil {
                finding.repaired = "removed; the next use unpacks the layer again"
            }
            report.findings.append(finding)
        }
        for key in Set(markers).subtracting(directories) {
            let path = "\(layout.snapshots)/\(key)\(SnapshotMarker.suffix)"
            var finding = Finding(kind: .snapshot, object: path, problem: "a completion marker without its snapshot directory")
            if repair, unlink(path) == 0 { finding.repaired = "removed" }
            report.findings.append(finding)
        }
    }

    private func snapshotProblem(_ key: String, expected: Digest?) -> String? {
        let path = "\(store.layout.snapshots)/\(key)"
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return "is not a directory" }
        guard let chainID = Self.chainID(key: key) else { return "is not named after a chain id" }
        guard let marker = store.snapshots.marker(for: chainID) else {
            return "has no valid completion marker (\(key)\(SnapshotMarker.suffix)): its unpack or deletion was interrupted, or it predates markers"
        }
        guard marker.chainID == chainID else { return "its marker names chain id \(marker.chainID)" }
        if let expected, marker.diffID != expected {
            return "its marker records DiffID \(marker.diffID), but the image's config says \(expected)"
        }
        return nil
    }

    static func chainID(key: String) -> Digest? {
        guard let dash = key.firstIndex(of: "-") else { return nil }
        return try? Digest(parsing: "\(key[..<dash]):\(key[key.index(after: dash)...])")
    }
}
