import ArgumentParser
import Testing
@testable import CompanionCLI

@Suite struct CompanionTests {
    @Test func rootCommandIsNamedCompanion() {
        #expect(Companion.configuration.commandName == "companion")
    }
}
