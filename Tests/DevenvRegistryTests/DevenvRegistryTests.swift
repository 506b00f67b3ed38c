import XCTest

final class DevenvRegistryTestsPlaceholder: XCTestCase {}
