import ArgumentParser
import Testing
@testable import CompanionCLI

@Suite struct StatusFilterTests {
    @Test(arguments: [
        ("404", [404...404]),
        ("4xx", [400...499]),
        ("5XX", [500...599]),
        ("400-499", [400...499]),
        ("404,500", [404...404, 500...500]),
        ("2xx,301-302,404", [200...299, 301...302, 404...404]),
    ] as [(String, [ClosedRange<Int>])])
    func parses(text: String, ranges: [ClosedRange<Int>]) throws {
        #expect(try StatusFilter(argument: text).validRanges() == ranges)
    }

    @Test(arguments: ["4x", "", "40", "4040", "6xx", "0xx", "099", "600", "499-400", "404,", ",404", "4xx-5xx", " 404", "abc"])
    func rejectsWithTheAcceptedForms(text: String) {
        #expect(StatusFilter(argument: text).ranges == nil)
        do {
            _ = try StatusFilter(argument: text).validRanges()
            Issue.record("\(text) should be rejected")
        } catch {
            #expect(error.message == "--status: expected 404, 4xx, 400-499 or 404,500; got \"\(text)\"")
        }
    }
}
