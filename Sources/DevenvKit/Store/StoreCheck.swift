import DevenvBuild
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `devenv check [--repair]`: the store's own invariants (StoreChecker), then the records
/// that point into it: build-cache entries and each project's build record and stat cache.
/// Holds the gc lock exclusively, so nothing is half-written while it looks or repairs.
public struct StoreCheck {
    let engine: Engine

    public func run(repair: Bool, onWait: (() -> Void)? = nil) throws -> StoreChecker.Report {
        let store = engine.store
        return try store.withExclusiveAccess(onWait: onWait) {
            var report = StoreChecker.Report(repair: repair)
            let bad = try StoreChecker(store: store).check(repair: repair, into: &report)
            BuildCache(layout: store.layout).check(bad: bad, repair: repair, into: &report)
            checkProjectState(repair: repair, into: &report)
            return report
        }
    }

    /// Project state is a cache of the last build (explanations, file digests): a file that
    /// does not decode is damage, and removing it costs only re-hashing or a lost explanation.
    /// A build record of an older cache-key version is not: the next build replaces it.
    private func checkProjectState(repair: Bool, into report: inout StoreChecker.Report) {
        for state in ProjectState.all(in: engine.store.layout) {
            for (path, decodes) in [(state.recordPath, Self.decodes(BuildRecord.self)), (state.statCachePath, Self.decodes([String: StatCache.Entry].self))] {
                let problem: String?
                do {
                    guard let bytes = try FileDescriptor.readRegularFileIfPresent(path, limit: 256 << 20, flags: O_NOFOLLOW) else { continue }
                    report.records += 1
                    problem = decodes(Data(bytes))
                } catch {
                    report.records += 1
                    problem = "\(error)"
                }
                guard let problem else { continue }
                var finding = StoreChecker.Finding(kind: .record, object: path, problem: problem)
                if repair, unlink(path) == 0 { finding.repaired = "removed; the next build writes it again" }
                report.findings.append(finding)
            }
        }
    }

    private static func decodes<T: Decodable>(_ type: T.Type) -> (Data) -> String? {
        { data in
            do {
                _ = try JSONDecoder().decode(type, from: data)
                return nil
            } catch {
                return CacheKey.isOutdatedRecord(data) ? nil : "does not decode: \(error)"
            }
        }
    }
}
