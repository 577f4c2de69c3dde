// Hand-written companion of the generated bindings (bindings/kotlin): builds
// JsonValue properties from plain Kotlin values, so apps write
// `spoor.track("product_clicked", jsonObjectOf("productId" to "p1", "price" to 9.99))`.
package dev.spoor.mobile

/**
 * Converts a Kotlin value to a [JsonValue]: `null`, [Boolean], whole numbers
 * ([Int], [Long], [Short], [Byte]), [Float] and [Double], [CharSequence] and [Char],
 * [Map]s with [String] keys, [Iterable]s and arrays of these, and [JsonValue] itself.
 *
 * @throws IllegalArgumentException for any other type (the message names it and where it was).
 */
fun jsonValueOf(value: Any?): JsonValue = convert(value, "value")

/** A properties or traits map from `key to value` pairs; values as in [jsonValueOf]. */
fun jsonObjectOf(vararg pairs: Pair<String, Any?>): Map<String, JsonValue> =
    pairs.associate { (key, value) -> key to convert(value, key) }

/** This map as properties or traits; values as in [jsonValueOf]. */
fun Map<String, Any?>.toJsonObject(): Map<String, JsonValue> =
    entries.associate { (key, value) -> key to convert(value, key) }

private fun convert(value: Any?, path: String): JsonValue = when (value) {
    null -> JsonValue.Null
    is JsonValue -> value
    is Boolean -> JsonValue.Bool(value)
    is Int, is Long, is Short, is Byte -> JsonValue.Int((value as Number).toLong())
    is Float, is Double -> JsonValue.Double((value as Number).toDouble())
    is Number -> JsonValue.Double(value.toDouble())
    is CharSequence -> JsonValue.String(value.toString())
    is Char -> JsonValue.String(value.toString())
    is Map<*, *> -> JsonValue.Object(
        value.entries.associate { (key, item) ->
            require(key is String) { "$path has a key of type ${typeName(key)}; JSON object keys are strings" }
            key to convert(item, "$path.$key")
        },
    )
    is Iterable<*> -> JsonValue.Array(value.mapIndexed { i, item -> convert(item, "$path[$i]") })
    is Array<*> -> JsonValue.Array(value.mapIndexed { i, item -> convert(item, "$path[$i]") })
    is IntArray -> JsonValue.Array(value.map { JsonValue.Int(it.toLong()) })
    is LongArray -> JsonValue.Array(value.map { JsonValue.Int(it) })
    is DoubleArray -> JsonValue.Array(value.map { JsonValue.Double(it) })
    is BooleanArray -> JsonValue.Array(value.map { JsonValue.Bool(it) })
    else -> throw IllegalArgumentException(
        "$path is a ${typeName(value)}, not a JSON value (null, Boolean, number, String, List or Map)",
    )
}

private fun typeName(value: Any?): String = value?.let { it::class.qualifiedName ?: it::class.toString() } ?: "null"
