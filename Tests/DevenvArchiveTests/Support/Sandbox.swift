@testable import DevenvArchive
import DevenvOCI
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A temp directory with an empty unpack root and host canaries beside it:
/// `<base>/victim/hello` and `<base>/dest-evil/secret`. `outside()` fingerprints everything
/// in `<base>` except the root, so a test can prove an unpack touched nothing else.
final class Sandbox {
    let base: String
    var root: String { base + "/root" }

    init() throws {
        var template = Array("/tmp/devenv-archive-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SandboxError("mkdtemp failed") }
        base = String(cString: made)
        let manager = FileManager.default
        try manager.createDirectory(atPath: root, withIntermediateDirectories: false)
        try manager.createDirectory(atPath: base + "/victim", withIntermediateDirectories: false)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: base + "/victim/hello"))
        try manager.createDirectory(atPath: base + "/dest-evil", withIntermediateDirectories: false)
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: base + "/dest-evil/secret"))
    }

    /// coreutils walk fd-relative, so trees deeper than PATH_MAX go too; `chmod -R` (which
    /// never follows symlinks) first, so read-only directories do not stop an unprivileged run.
    deinit {
        _ = try? Shell.run(["chmod", "-R", "u+rwx", base])
        _ = try? Shell.run(["rm", "-rf", base])
    }

    /// Writes a layer blob into the sandbox (outside the root).
    func layer(_ tar: TarBuilder, _ compression: LayerCompression = .gzip, name: String = "layer") throws -> String {
        try layer(tar.bytes, compression, name: name)
    }

    func layer(_ bytes: [UInt8], _ compression: LayerCompression = .gzip, name: String = "layer") throws -> String {
        let plain = "\(base)/\(name).tar"
        try Data(bytes).write(to: URL(fileURLWithPath: plain))
        switch compression {
        case .none: return plain
        case .gzip: return try Shell.compress(plain, with: ["gzip", "-c", "-n"], suffix: ".gz")
        case .zstd: return try Shell.compress(plain, with: ["zstd", "-q", "-c"], suffix: ".zst")
        }
    }

    func unpack(_ layer: String, declared: LayerCompression? = nil, lowers: LowerLayers = .none,
                options: UnpackOptions = Sandbox.userOptions) throws -> UnpackReport {
        try LayerUnpacker.unpack(layerAt: layer, declared: declared, into: root, lowers: lowers, options: options)
    }

    /// Unpacks `tar` as a lower layer into `<base>/<name>` (outside the root, so `outside()`
    /// also proves that lower layers are never written) and returns its path.
    func lowerLayer(_ tar: TarBuilder, name: String, lowers: LowerLayers = .none, options: UnpackOptions = Sandbox.userOptions) throws -> String {
        let directory = "\(base)/\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        _ = try LayerUnpacker.unpack(layerAt: try layer(tar, name: name), declared: nil, into: directory, lowers: lowers, options: options)
        return directory
    }

    /// Options that work without privileges: ownership not preserved,
    /// `user.overlay.` xattrs.
    static var userOptions: UnpackOptions {
        var options = UnpackOptions()
        options.preserveOwnership = false
        options.overlayXattrPrefix = "user.overlay."
        return options
    }

    /// Type, mode and content (or link target) of every path in `<base>` outside the root.
    func outside() throws -> [String: String] {
        var result: [String: String] = [:]
        let manager = FileManager.default
        guard let walker = manager.enumerator(atPath: base) else { throw SandboxError("cannot list \(base)") }
        while let relative = walker.nextObject() as? String {
            if relative == "root" || relative.hasPrefix("root/") { continue }
            let path = base + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            var record = "\(info.st_mode) \(info.st_ino) \(info.st_nlink) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            if info.st_mode & S_IFMT == S_IFREG, let data = manager.contents(atPath: path) {
                record += " \(Digest.sha256(data))"
            }
            result[relative] = record
        }
        return result
    }

    /// Entries directly in `<base>`: the root, the canaries and layer files only.
    func baseNames() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: base))
    }

    /// Unpacks a hostile layer and checks §0: the canaries and everything outside the root are
    /// unchanged, and nothing new appeared beside the root. Returns the error, if any.
    @discardableResult
    func unpackConfined(_ layer: String, lowers: LowerLayers = .none, options: UnpackOptions = Sandbox.userOptions,
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> ArchiveError? {
        let before = try outside()
        let names = try baseNames()
        var failure: ArchiveError?
        do {
            _ = try unpack(layer, lowers: lowers, options: options)
        } catch let error as ArchiveError {
            failure = error
        }
        #expect(try outside() == before, "something outside the root changed", sourceLocation: sourceLocation)
        #expect(try baseNames() == names, "a new entry appeared beside the root", sourceLocation: sourceLocation)
        #expect(try String(contentsOfFile: base + "/victim/hello", encoding: .utf8) == "hello\n", sourceLocation: sourceLocation)
        return failure
    }

    func exists(_ relative: String) -> Bool {
        var info = stat()
        return lstat(root + "/" + relative, &info) == 0
    }

    func lstatInRoot(_ relative: String) -> stat? {
        var info = stat()
        return lstat(root + "/" + relative, &info) == 0 ? info : nil
    }

    func contents(_ relative: String) -> String? {
        guard let data = FileManager.default.contents(atPath: root + "/" + relative) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

struct SandboxError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Shell {
    /// Runs a program, returning its exit status; stdout goes to `output` when given.
    @discardableResult
    static func run(_ arguments: [String], output: String? = nil, input: String? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let output {
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        }
        if let input { process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input)) }
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func compress(_ path: String, with command: [String], suffix: String) throws -> String {
        let output = path + suffix
        guard try run(command + [path], output: output) == 0 else { throw SandboxError("\(command) failed") }
        return output
    }
}
