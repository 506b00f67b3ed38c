import Foundation

/// Bounded retries with backoff for idempotent requests.
enum Retrying {
    /// Runs `body` up to `attempts` times while it throws a retryable `RegistryError` or
    /// returns a retryable status (429, 5xx other than 501), sleeping between attempts.
    static func run(attempts: Int, policy: RegistryConfiguration.Retry, cancellation: CancellationFlag?,
                    onRetry: (Int, RegistryError) -> Void = { _, _ in },
                    _ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try body()
                guard isRetryable(status: response.status), attempt < attempts else { return response }
                let error = statusError(response)
                onRetry(attempt, error)
                try pause(policy.delay(attempt: attempt, retryAfter: error.retryAfter), cancellation: cancellation)
            } catch let error as RegistryError where error.retryable && attempt < attempts {
                onRetry(attempt, error)
                try pause(policy.delay(attempt: attempt, retryAfter: error.retryAfter), cancellation: cancellation)
            }
        }
    }

    static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 408 || (500...599).contains(status) && status != 501 && status != 505
    }

    /// The error for a retryable status, carrying the server's Retry-After.
    static func statusError(_ response: HTTPResponse, operation: String = "") -> RegistryError {
        RegistryError(.http(response.status), operation, "HTTP \(response.status): \(HTTPMessage.describeErrorBody(response.body))",
                      retryable: isRetryable(status: response.status), retryAfter: HTTPMessage.retryAfter(response.header("retry-after")))
    }

    /// Sleeps in short steps so a cancelled pull stops promptly.
    static func pause(_ seconds: TimeInterval, cancellation: CancellationFlag?) throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if let error = cancellation?.error { throw error }
            Thread.sleep(forTimeInterval: min(0.05, max(0, end.timeIntervalSinceNow)))
        }
    }
}
