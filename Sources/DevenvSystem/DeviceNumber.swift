import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// Device numbers (macros in glibc).
public enum DeviceNumber {
    public static func make(major: UInt32, minor: UInt32) -> dev_t { devenv_makedev(major, minor) }
    public static func major(_ device: dev_t) -> UInt32 { devenv_major(device) }
    public static func minor(_ device: dev_t) -> UInt32 { devenv_minor(device) }
}
