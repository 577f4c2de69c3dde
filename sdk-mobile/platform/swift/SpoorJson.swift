// Hand-written companion of the generated bindings (bindings/swift): lets Swift
// code write properties as plain literals,
//   try spoor.track(name: "product_clicked", properties: ["productId": "p1", "price": 9.99])
// NOT COMPILED IN CI: no Swift toolchain can be installed on the CI machines
// (see docs/mobile.md, "What of iOS is verified").

extension JsonValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension JsonValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value: value) }
}

extension JsonValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .int(value: value) }
}

extension JsonValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value: value) }
}

extension JsonValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value: value) }
}

extension JsonValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JsonValue...) { self = .array(value: elements) }
}

extension JsonValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JsonValue)...) {
        self = .object(value: Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
