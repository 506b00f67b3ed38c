import DevenvArchive
import DevenvBuild
import DevenvOCI
import DevenvRuntime
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Work on trees a rootless container wrote, done by `devenv-core __namespace-helper` as
/// root of a user namespace with devenv's mapping (`UserNamespaceProcess`): what the step's
/// container root left mode 0600/0700 under subordinate ids is readable and removable
/// there, and owners appear as the container saw them, which is what a layer records.
public enum NamespaceHelper {
    public static let argument = "__namespace-helper"
    /// The devenv-core executable (the running one: only devenv-core builds).
    static let executable = "/proc/self/exe"

    // MARK: The parent's side

    /// Commits `commit` inside the namespace: the helper removes the runtime's stubs and
    /// writes the tar to a pipe; this process compresses and hashes it into `output`.
    static func commit(_ commit: UpperCommit, mapping: IDMapping, to output: String, options: LayerWriteOptions) throws -> LayerBlob {
        let request = Request(operation: .commit, commit: commit, path: nil, clampMTime: options.clampMTime)
        let helper = try UserNamespaceProcess.start(executable: executable, arguments: [argument, try request.encoded()],
                                                    mapping: mapping, captureOutput: true)
        var waited = false
        defer {
            if !waited {
                helper.kill()
                _ = try? helper.wait()
            }
        }
        guard let tar = helper.output else { throw KitError.helperFailed("the helper has no output pipe") }
        return try LayerWriter.write(tarFrom: tar.raw, object: commit.upperDir, to: output, options: options) {
            // A reader that stopped early must not leave the helper blocked on a full pipe.
            close(tar.release())
            waited = true
            return try finished(try helper.wait(), object: commit.upperDir)
        }
    }

    /// Removes a tree the user's own permissions cannot (`DirectoryRemover.permissionFallback`).
    public static func remove(_ path: String) throws {
        guard let mapping = HostIdentity.current().idMapping else {
            return try DirectoryRemover.removeAsCaller(path)
        }
        let request = Request(operation: .remove, commit: nil, path: path, clampMTime: nil)
        let result = try UserNamespaceProcess.run(executable: executable, arguments: [argument, try request.encoded()], mapping: mapping)
        _ = try finished(result, object: path)
    }

    /// The helper's warnings, or its error.
    private static func finished(_ result: UserNamespaceProcess.Result, object: String) throws -> [String] {
        let lines = result.errorOutput.split(separator: "\n").map(String.init)
        guard result.status == .exited(0) else {
            let errors = lines.filter { !$0.hasPrefix(warningPrefix) }
            let message = errors.isEmpty ? "\(result.status)" : errors.joined(separator: "; ")
            throw KitError.helperFailed(message.contains(object) ? message : "\(Printable.escape(object)): \(message)")
        }
        return lines.filter { $0.hasPrefix(warningPrefix) }.map { String($0.dropFirst(warningPrefix.count)) }
    }

    private static let warningPrefix = "warning: "

    // MARK: The helper's side

    struct Request: Codable {
        enum Operation: String, Codable { case commit, remove }
        var operation: Operation
        var commit: UpperCommit?
        var path: String?
        var clampMTime: Int64?

        func encoded() throws -> String { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
    }

    /// `__namespace-helper REQUEST-JSON`, in the namespace: the tar goes to stdout, warnings
    /// and the error (already escaped by the modules' errors) to stderr.
    public static func main(_ arguments: [String]) -> Never {
        do {
            guard arguments.count == 1 else { throw KitError.helperFailed("expected one request") }
            let request = try JSONDecoder().decode(Request.self, from: Data(arguments[0].utf8))
            switch request.operation {
            case .commit:
                guard let commit = request.commit else { throw KitError.helperFailed("no commit in the request") }
                for warning in try commit.writeTar(to: 1, clampMTime: request.clampMTime) {
                    FileHandle.standardError.write(Data((warningPrefix + warning + "\n").utf8))
                }
            case .remove:
                guard let path = request.path else { throw KitError.helperFailed("no path in the request") }
                try DirectoryRemover.removeAsCaller(path)
            }
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(1)
        }
    }
}
