#if canImport(Glibc)
import Glibc
#endif

/// open(2)'s O_PATH, which Swift's Glibc module hides behind _GNU_SOURCE (the same value on
/// x86_64 and aarch64): a descriptor that names a node without opening it for I/O.
public let O_PATH: Int32 = 0o10000000

/// A path naming an open descriptor, so a call that takes a path (mount(2)) acts on exactly
/// the node that was resolved, not on whatever the name leads to later.
public func descriptorPath(_ descriptor: Int32) -> String { "/proc/self/fd/\(descriptor)" }
