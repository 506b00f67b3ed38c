import DevenvRuntime

/// `--device HOST[:CONTAINER][:PERMISSIONS]`, docker's form: a host device node at the same
/// path or at CONTAINER (in /dev). PERMISSIONS are letters of `rwm` and must grant read and
/// write (`DeviceBind.permissionsProblem`): narrower ones cannot be enforced here, so they
/// are refused rather than silently widened.
public enum DeviceOption {
    public static func device(_ text: String) throws -> DeviceBind {
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var permissions = "rwm"
        if parts.count > 1, let last = parts.last, !last.isEmpty, last.allSatisfy({ "rwm".contains($0) }) {
            permissions = last
            parts.removeLast()
        }
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.hasPrefix("/") }) else {
            throw RuntimeError.invalid("--device \(ContainerPath.quote(text)): expected /dev/HOST[:/dev/CONTAINER][:rwm]")
        }
        if let problem = DeviceBind.permissionsProblem(permissions) {
            throw RuntimeError.invalid("--device \(ContainerPath.quote(text)): \(problem)")
        }
        return DeviceBind(source: parts[0], destination: parts.count == 2 ? parts[1] : parts[0])
    }
}
