import Foundation

/// A user name and secret for one registry. The secret is a password, or an identity
/// (refresh) token when a credential helper answers with the user name `<token>`.
/// Printing a value never shows the secret.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var username: String
    public var secret: String
    public var isIdentityToken: Bool

    public init(username: String, secret: String, isIdentityToken: Bool = false) {
        self.username = username
        self.secret = secret
        self.isIdentityToken = isIdentityToken
    }

    public var description: String { isIdentityToken ? "Credentials(identity token)" : "Credentials(user \(username), password redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["username": username]) }

    /// The value of a Basic Authorization header.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(secret)".utf8).base64EncodedString()
    }
}

/// Where credentials come from. The default reads Docker's configuration; tests and
/// embedders can supply their own.
public protocol CredentialSource: Sendable {
    /// Credentials for `registry` (a reference's registry name, e.g. `docker.io` or
    /// `127.0.0.1:5000`), or nil to go anonymous.
    func credentials(for registry: String) throws -> Credentials?
}

/// A fixed set of credentials, by registry name.
public struct StaticCredentials: CredentialSource {
    public var entries: [String: Credentials]

    public init(_ entries: [String: Credentials] = [:]) { self.entries = entries }

    public func credentials(for registry: String) throws -> Credentials? { entries[registry] }
}
