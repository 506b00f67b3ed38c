import CGit2
#if canImport(Glibc)
import Glibc
#endif

/// libgit2's global state, initialised exactly once: Swift runs a global's initialiser
/// under `swift_once`, so concurrent first uses are safe. It is never shut down; the
/// process exits first.
private let initializationResult: Int32 = git_libgit2_init()

enum LibGit2 {
    static func initialize() throws {
        guard initializationResult >= 0 else {
            throw GitError.last("initialise libgit2", code: initializationResult)
        }
    }

    /// Calls a libgit2 function and turns a negative result into a `GitError`.
    @discardableResult
    static func check(_ operation: String, object: String? = nil, _ call: () -> Int32) throws -> Int32 {
        let code = call()
        if code < 0 { throw GitError.last(operation, object: object, code: code) }
        return code
    }

    /// A path from libgit2 as a String. File names are bytes on Linux; one that is not UTF-8
    /// cannot be represented faithfully, so it is an error rather than a silently altered
    /// name that would later name a different file.
    static func string(_ pointer: UnsafePointer<CChar>, operation: String) throws -> String {
        let bytes = UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)).bindMemory(to: UInt8.self)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw GitError(operation, object: String(decoding: bytes, as: UTF8.self),
                           message: "file name is not valid UTF-8; rename it or add it to .gitignore")
        }
        return text
    }
}
