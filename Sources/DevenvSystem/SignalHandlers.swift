import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// The process-wide signal relay of the C shim: its handlers write each signal number to
/// every registered pipe (signals land on any thread).
public enum SignalHandlers {
    /// A slot for `writeEnd`; -1 with errno.
    public static func register(_ writeEnd: Int32) -> Int32 { devenv_relay_register(writeEnd) }
    public static func unregister(_ slot: Int32) { devenv_relay_unregister(slot) }

    /// Installs the relay handler; the previous disposition, or nil.
    public static func relay(_ signal: Int32) -> sigaction? {
        var previous = sigaction()
        return devenv_relay_install(signal, &previous) == 0 ? previous : nil
    }

    public static func ignore(_ signal: Int32) -> sigaction? {
        var previous = sigaction()
        return devenv_signal_ignore(signal, &previous) == 0 ? previous : nil
    }

    public static func restore(_ signal: Int32, _ previous: sigaction) {
        var previous = previous
        _ = devenv_signal_restore(signal, &previous)
    }
}
