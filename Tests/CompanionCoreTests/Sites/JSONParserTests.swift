// Tests for JSONParser (RFC 8259): what parses to which value, and every
// rejection with the exact line, column and message a user would see.

import Testing
@testable import CompanionCore

@Suite struct JSONParserTests {
    struct Valid: CustomTestStringConvertible, Sendable {
        let input: String
        let expected: JSONValue
        var testDescription: String { input }
    }

    static let validCases: [Valid] = [
        Valid(input: "null", expected: .null),
        Valid(input: " true ", expected: .bool(true)),
        Valid(input: "false", expected: .bool(false)),
        Valid(input: "0", expected: .number(0)),
        Valid(input: "-0", expected: .number(-0.0)),
        Valid(input: "12.5e1", expected: .number(125)),
        Valid(input: "1E-2", expected: .number(0.01)),
        Valid(input: "-3.25", expected: .number(-3.25)),
        Valid(input: #""a\"b\\c\/d\b\f\n\r\t""#, expected: .string("a\"b\\c/d\u{08}\u{0C}\n\r\t")),
        Valid(input: #""\u00e9\u00E9""#, expected: .string("éé")),
        Valid(input: #""\ud83d\ude00""#, expected: .string("😀")),
        Valid(input: "\"é😀\"", expected: .string("é😀")),
        Valid(input: "[]", expected: .array([])),
        Valid(input: "{}", expected: .object([])),
        Valid(input: "[1, [2, []], {\"a\": null}]",
              expected: .array([.number(1), .array([.number(2), .array([])]), .object([(key: "a", value: .null)])])),
        Valid(input: "\t{\r\n \"b\" : 1 ,\"a\":2}\n",
              expected: .object([(key: "b", value: .number(1)), (key: "a", value: .number(2))])),
        Valid(input: "\u{FEFF}{}", expected: .object([])),
        Valid(input: #"{"a": {"a": 1}}"#, expected: .object([(key: "a", value: .object([(key: "a", value: .number(1))]))])),
    ]

    @Test(arguments: validCases)
    func parsesValidJSON(_ test: Valid) throws {
        #expect(try JSONValue.parse(Array(test.input.utf8)) == test.expected)
    }

    @Test func keepsObjectMemberOrderAndFindsMembersByKey() throws {
        let value = try JSONValue.parse(Array(#"{"z": 1, "a": [true, "x"]}"#.utf8))
        #expect(value.objectValue?.map(\.key) == ["z", "a"])
        #expect(value["z"] == .number(1))
        #expect(value["a"]?[1] == .string("x"))
        #expect(value["missing"] == nil)
        #expect(value["z"]?.intValue == 1)
        #expect(JSONValue.number(2.5).intValue == nil)
        #expect(JSONValue.number(2e3).intValue == 2000)
    }

    struct Invalid: CustomTestStringConvertible, Sendable {
        let label: String
        let input: [UInt8]
        let line: Int
        let column: Int
        let message: String
        var path: String = ""
        var testDescription: String { label }

        init(_ label: String, _ input: String, _ line: Int, _ column: Int, _ message: String, path: String = "") {
            self.init(label, Array(input.utf8), line, column, message, path: path)
        }

        init(_ label: String, _ input: [UInt8], _ line: Int, _ column: Int, _ message: String, path: String = "") {
            self.label = label
            self.input = input
            self.line = line
            self.column = column
            self.message = message
            self.path = path
        }
    }

    static let invalidCases: [Invalid] = [
        Invalid("line comment", "{\n  // note\n  \"a\": 1\n}", 2, 3, "comments are not allowed in JSON"),
        Invalid("block comment", "[1, /* two */ 2]", 1, 5, "comments are not allowed in JSON"),
        Invalid("comment after the value", "{}\n// end", 2, 1, "comments are not allowed in JSON"),
        Invalid("columns count characters", "[\"é\", /* x */ 1]", 1, 7, "comments are not allowed in JSON"),
        Invalid("trailing comma in array", "[1, 2,\n]", 1, 6, "trailing comma is not allowed in JSON"),
        Invalid("trailing comma in object", "{\"a\": 1 , }", 1, 9, "trailing comma is not allowed in JSON"),
        Invalid("duplicate key", "{\"a\": 1,\n \"a\": 2}", 2, 2, "duplicate key \"a\" (first on line 1)", path: "a"),
        Invalid("nested duplicate key", "{\"sites\": [{\"root\": \"x\", \"root\": \"y\"}]}", 1, 26,
                "duplicate key \"root\" (first on line 1)", path: "sites[0].root"),
        Invalid("single quotes", "['a']", 1, 2, "strings must be in double quotes"),
        Invalid("unquoted key", "{a: 1}", 1, 2, "expected a key in double quotes, got 'a'"),
        Invalid("missing colon", "{\"a\" 1}", 1, 6, "expected ':' after the key \"a\""),
        Invalid("missing comma", "[1 2]", 1, 4, "expected ',' or ']' after an array element, got '2'"),
        Invalid("missing object comma", "{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}' after an object member, got '\"'"),
        Invalid("leading zero", "01", 1, 2, "leading zeros are not allowed in a number"),
        Invalid("bare dot", "1.", 1, 3, "expected a digit after '.' in a number"),
        Invalid("leading dot", ".5", 1, 1, "a number must start with a digit"),
        Invalid("plus sign", "+1", 1, 1, "a number cannot start with '+'"),
        Invalid("lone minus", "-", 1, 2, "expected a digit in a number"),
        Invalid("empty exponent", "1e", 1, 3, "expected a digit in the exponent of a number"),
        Invalid("out of range", "[1e400]", 1, 2, "number is out of range: 1e400"),
        Invalid("NaN", "NaN", 1, 1, "unexpected word 'NaN'; expected a value (strings need double quotes)"),
        Invalid("misspelled literal", "[tru]", 1, 2, "unexpected word 'tru'; expected a value (strings need double quotes)"),
        Invalid("raw newline in string", "\"a\nb\"", 1, 3, "a string cannot span lines; write \\n for a line break"),
        Invalid("raw tab in string", "\"a\tb\"", 1, 3, "control character (byte 0x9) must be escaped in a string"),
        Invalid("bad escape", "\"\\x\"", 1, 2, "invalid escape sequence in a string; use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX"),
        Invalid("short unicode escape", "\"\\u12\"", 1, 2, "invalid \\u escape; expected four hex digits"),
        Invalid("lone high surrogate", "\"\\ud800x\"", 1, 2, "unpaired UTF-16 surrogate in a \\u escape"),
        Invalid("lone low surrogate", "\"\\udc00\"", 1, 2, "unpaired UTF-16 surrogate in a \\u escape"),
        Invalid("invalid UTF-8", [0x22, 0x61, 0xFF, 0x22], 1, 3, "invalid UTF-8 byte 0xFF"),
        Invalid("overlong UTF-8", [0x22, 0xC0, 0xAF, 0x22], 1, 2, "invalid UTF-8 byte 0xC0"),
        Invalid("UTF-8 surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22], 1, 2, "invalid UTF-8 byte 0xED"),
        Invalid("unterminated string", "[\"abc", 1, 6, "unterminated string; expected a closing '\"'"),
        Invalid("unterminated array", "[1,\n", 2, 1, "unexpected end of file; expected a JSON value"),
        Invalid("unterminated object", "{\"a\": 1", 1, 8, "unexpected end of file; expected ',' or '}'"),
        Invalid("empty file", "", 1, 1, "the file is empty; expected a JSON value"),
        Invalid("only whitespace", " \n ", 2, 2, "the file is empty; expected a JSON value"),
        Invalid("two values", "{} {}", 1, 4, "unexpected '{' after the end of the JSON value"),
        Invalid("control byte", "[\u{01}]", 1, 2, "unexpected byte 0x1; expected a JSON value"),
        Invalid("too deep", String(repeating: "[", count: 300), 1, 257, "nesting is deeper than 256 levels"),
    ]

    @Test(arguments: invalidCases)
    func rejectsInvalidJSONWithLineAndColumn(_ test: Invalid) {
        #expect(throws: JSONSyntaxError(message: test.message, line: test.line, column: test.column, path: test.path)) {
            try JSONValue.parse(test.input)
        }
    }

    @Test func syntaxErrorDescriptionNamesLocationAndPath() {
        let error = JSONSyntaxError(message: "duplicate key \"root\" (first on line 3)", line: 4, column: 7, path: "sites[0].root")
        #expect(error.description == "sites[0].root: line 4, column 7: duplicate key \"root\" (first on line 3)")
        #expect(JSONSyntaxError(message: "m", line: 1, column: 2).description == "line 1, column 2: m")
    }

    @Test func shortDescriptionsForMessages() {
        #expect(JSONValue.string("two").shortDescription == "\"two\"")
        #expect(JSONValue.string("a\"b\n").shortDescription == #""a\"b\n""#)
        #expect(JSONValue.number(2).shortDescription == "2")
        #expect(JSONValue.number(2.5).shortDescription == "2.5")
        #expect(JSONValue.null.shortDescription == "null")
        #expect(JSONValue.array([]).shortDescription == "an array")
        #expect(JSONValue.object([]).shortDescription == "an object")
        #expect(JSONValue.string(String(repeating: "x", count: 100)).shortDescription.count == 62)
    }
}
