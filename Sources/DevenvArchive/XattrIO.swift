import DevenvSystem

/// Extended attributes of the entries a pass reads or writes (`ExtendedAttribute`), with
/// failures as the pass's `Failure`, so the pass can add the entry they happened on.
enum XattrIO {
    typealias Target = ExtendedAttribute.Target

    /// All attribute names, in the order the filesystem returns them.
    static func names(_ target: Target) throws -> [[UInt8]] {
        try asFailure { try ExtendedAttribute.names(target) }
    }

    /// The value of `name`, or nil when the attribute does not exist.
    static func value(_ target: Target, name: [UInt8]) throws -> [UInt8]? {
        try asFailure { try ExtendedAttribute.value(target, name: name) }
    }

    /// Sets an attribute; returns 0 or the errno.
    static func set(_ target: Target, name: [UInt8], value: [UInt8]) -> Int32 {
        ExtendedAttribute.set(target, name: name, value: value)
    }

    private static func asFailure<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SystemError {
            throw Failure.system(error.operation, errno: error.errno)
        }
    }

    /// Removes an attribute; a missing one is no error.
    static func remove(_ target: Target, name: [UInt8]) {
        ExtendedAttribute.remove(target, name: name)
    }
}
