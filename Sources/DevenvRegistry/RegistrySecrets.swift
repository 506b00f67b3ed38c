import DevenvOCI
import Foundation

/// The credentials this process has sent or loaded, so that none of them reaches a message
/// even when a registry echoes a request back. Every
/// Authorization header `HTTPClient` sends and every secret `Authenticator` loads or obtains
/// is remembered in all its forms (`Redaction.forms`); `redact` applies them and
/// `Redaction`'s patterns. `RegistryError.description` and the CLI's printing call it.
public enum RegistrySecrets {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var known: Set<String> = []

    static func remember(authorization value: String) {
        add(Redaction.forms(ofAuthorization: value))
    }

    static func remember(secret value: String) {
        add(Redaction.forms(ofSecret: value))
    }

    private static func add(_ forms: [String]) {
        lock.lock()
        known.formUnion(forms)
        lock.unlock()
    }

    /// `text` without any remembered secret, credential header, token field or URL user info.
    public static func redact(_ text: String) -> String {
        lock.lock()
        let secrets = known
        lock.unlock()
        return Redaction.redact(text, secrets: Array(secrets))
    }
}
