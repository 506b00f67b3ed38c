import DevenvArchive
import DevenvBuild
import DevenvOCI
import DevenvRuntime
import DevenvStore
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
        let request = Request(operation: .commit, commit: commit, path: nil, clampMTime: options.clampMTime, layer: nil)
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

    /// Unpacks a layer blob into `target` inside the namespace, where its root may chown to
    /// every id of the mapping: the snapshot's files get their owners from the layer, in the
    /// ids every rootless container and step sees (on disk, the subordinate ids they map to).
    /// Returns the layer's DiffID.
    static func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget, mapping: IDMapping) throws -> Digest {
        try unpack(path, declared: declared, into: target, mapping: mapping, growing: nil)
    }

    /// The same for a blob still downloading into `layer`: the helper follows the file as it
    /// grows (`GrowingFile.following`) while this process forwards the lengths the download
    /// publishes, so extraction keeps pace with the transfer as it does as root. If the
    /// download is abandoned, the helper is killed and this throws; the caller discards the
    /// target.
    static func unpack(growing layer: GrowingFile, declared: LayerCompression?, into target: UnpackTarget, mapping: IDMapping) throws -> Digest {
        try unpack(layer.path, declared: declared, into: target, mapping: mapping, growing: layer)
    }

    private static func unpack(_ path: String, declared: LayerCompression?, into target: UnpackTarget, mapping: IDMapping,
                               growing: GrowingFile?) throws -> Digest {
        let layer = Request.Layer(path: path, declared: declared, directory: target.directory, lowers: target.lowers,
                                  diffIDAlgorithm: target.diffIDAlgorithm, growing: growing != nil)
        let request = Request(operation: .unpack, commit: nil, path: nil, clampMTime: nil, layer: layer)
        let helper = try UserNamespaceProcess.start(executable: executable, arguments: [argument, try request.encoded()],
                                                    mapping: mapping, captureOutput: true, feedInput: growing != nil)
        var waited = false
        defer {
            if !waited {
                helper.kill()
                _ = try? helper.wait()
            }
        }
        guard let output = helper.output else { throw KitError.helperFailed("the helper has no output pipe") }
        if let growing, let input = helper.input {
            // False: the helper stopped reading, its error (below) says why.
            _ = try growing.forward(to: input.raw)
            close(input.release())
        }
        let text = (try? FileDescriptor.readAll(output.raw, limit: 4096)) ?? []
        close(output.release())
        waited = true
        _ = try finished(try helper.wait(), object: path)
        let line = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let diffID = try? Digest(parsing: line) else {
            throw KitError.helperFailed("\(Printable.escape(path)): the helper printed no DiffID")
        }
        return diffID
    }

    /// Splits a `packages` step's upper directory inside the namespace (`UpperSplit.run`):
    /// the layers' directories get the owners the step's container saw.
    static func split(_ split: UpperSplit, mapping: IDMapping) throws -> [UpperSplit.Part]? {
        var request = Request(operation: .split, commit: nil, path: nil, clampMTime: nil, layer: nil)
        request.split = split
        return try answer(request, mapping: mapping, object: split.commit.upperDir)
    }

    /// Copies what a `COPY --from`'s patterns match out of a stage into the user's mirror
    /// directory, inside the namespace (`StageMirror`).
    static func mirror(_ mirror: StageMirror.Request, mapping: IDMapping) throws -> StageMirror.Result {
        var request = Request(operation: .mirror, commit: nil, path: nil, clampMTime: nil, layer: nil)
        request.mirror = mirror
        return try answer(request, mapping: mapping, object: mirror.lowerDirs.first ?? mirror.directory)
    }

    /// Runs `request` and decodes the JSON the helper prints.
    private static func answer<Answer: Decodable>(_ request: Request, mapping: IDMapping, object: String) throws -> Answer {
        let helper = try UserNamespaceProcess.start(executable: executable, arguments: [argument, try request.encoded()],
                                                    mapping: mapping, captureOutput: true)
        guard let output = helper.output else {
            helper.kill()
            _ = try? helper.wait()
            throw KitError.helperFailed("the helper has no output pipe")
        }
        let text = (try? FileDescriptor.readAll(output.raw, limit: 64 << 20)) ?? []
        close(output.release())
        _ = try finished(try helper.wait(), object: object)
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(text))
        } catch {
            throw KitError.helperFailed("\(Printable.escape(object)): the helper's \(request.operation.rawValue) answer is unreadable: \(error)")
        }
    }

    /// Removes a tree the user's own permissions cannot (`DirectoryRemover.permissionFallback`).
    public static func remove(_ path: String) throws {
        guard let mapping = HostIdentity.current().idMapping else {
            return try DirectoryRemover.removeAsCaller(path)
        }
        let request = Request(operation: .remove, commit: nil, path: path, clampMTime: nil, layer: nil)
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
        enum Operation: String, Codable { case commit, remove, unpack, split, mirror }
        /// What `unpack` applies where (`UnpackTarget`, with the blob).
        struct Layer: Codable {
            var path: String
            var declared: LayerCompression?
            var directory: String
            var lowers: [String]?
            var diffIDAlgorithm: Digest.Algorithm
            /// The blob is still downloading: its published lengths come on stdin.
            var growing: Bool?
        }

        var operation: Operation
        var commit: UpperCommit?
        var path: String?
        var clampMTime: Int64?
        var layer: Layer?
        var split: UpperSplit?
        var mirror: StageMirror.Request?

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
            case .unpack:
                guard let layer = request.layer else { throw KitError.helperFailed("no layer in the request") }
                // As the namespace's root the defaults chown every node to the layer's owner
                // and write overlay's whiteouts as `user.overlay.*` (`UnpackOptions`).
                var options = UnpackOptions()
                options.diffIDAlgorithm = layer.diffIDAlgorithm
                let lowers: LowerLayers = layer.lowers.map { $0.isEmpty ? .none : .directories($0) } ?? .pending
                let report = layer.growing == true
                    ? try LayerUnpacker.unpack(growing: try GrowingFile.following(path: layer.path, from: 0), declared: layer.declared,
                                               into: layer.directory, lowers: lowers, options: options)
                    : try LayerUnpacker.unpack(layerAt: layer.path, declared: layer.declared, into: layer.directory,
                                               lowers: lowers, options: options)
                FileHandle.standardOutput.write(Data("\(report.diffID)\n".utf8))
            case .split:
                guard let split = request.split else { throw KitError.helperFailed("no split in the request") }
                FileHandle.standardOutput.write(try JSONEncoder().encode(try split.run()))
            case .mirror:
                guard let mirror = request.mirror else { throw KitError.helperFailed("no mirror in the request") }
                FileHandle.standardOutput.write(try JSONEncoder().encode(try StageMirror.run(mirror)))
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
