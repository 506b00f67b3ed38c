import Testing

/// The error `body` throws, recording an issue when it throws nothing or something else.
/// (`#require(throws:)` returns the error only from Swift 6.1 on; this builds with 6.0.)
func capture<E: Error, T>(_ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) throws -> E {
    do {
        let value = try body()
        Issue.record("expected \(E.self), got \(value)", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), got \(error)", sourceLocation: sourceLocation)
    }
    throw CaptureFailure()
}

struct CaptureFailure: Error {}
