#if canImport(Glibc)
import Glibc
#endif

/// A NULL-terminated `char *[]` that lives as long as the value.
public final class CStringArray {
    private let storage: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    public init(_ strings: [String]) {
        count = strings.count + 1
        storage = .allocate(capacity: count)
        for (index, string) in strings.enumerated() { storage[index] = strdup(string) }
        storage[strings.count] = nil
    }

    public var pointers: UnsafePointer<UnsafeMutablePointer<CChar>?> { UnsafePointer(storage) }

    deinit {
        for index in 0..<count { free(storage[index]) }
        storage.deallocate()
    }
}
