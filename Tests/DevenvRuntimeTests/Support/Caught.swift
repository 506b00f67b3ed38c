import Testing

/// The error `body` throws, as `E`; records an issue when it throws nothing or something
/// else. (`#expect(throws:)` only returns the error from Swift 6.1 on.)
func caught<E: Error>(_ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> E? {
    do {
        try body()
        Issue.record("expected \(E.self) to be thrown", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), caught \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
