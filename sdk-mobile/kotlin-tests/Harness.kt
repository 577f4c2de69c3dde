// Test support for the JVM tests of the mobile SDK: the environment the test
// script sets up (a real relay on loopback), reading the relay's log, a small
// JSON reader for it, child JVMs to kill, and a minimal test runner.
package dev.spoor.mobile.tests

import dev.spoor.mobile.SpoorClient
import dev.spoor.mobile.SpoorConfig
import dev.spoor.mobile.SpoorStats
import dev.spoor.mobile.jsonObjectOf
import java.io.File
import java.util.UUID
import java.util.concurrent.TimeUnit

/** What `.ci/test-mobile.sh` passes in: the relay it started and where to put files. */
object Env {
    val endpoint: String = required("SPOOR_TEST_ENDPOINT")
    val writeKey: String = required("SPOOR_TEST_WRITE_KEY")
    val relayDataDir: String = required("SPOOR_TEST_RELAY_DATA")
    val spoorBin: String = required("SPOOR_BIN")
    val workDir: File = File(required("SPOOR_TEST_WORK")).also { it.mkdirs() }

    /** An endpoint where nothing listens: the app is offline. */
    const val OFFLINE_ENDPOINT = "http://127.0.0.1:1"

    private fun required(name: String): String =
        System.getenv(name)?.takeIf { it.isNotEmpty() }
            ?: error("$name is not set: run the Kotlin tests through .ci/test-mobile.sh")
}

/** A fresh id for one test run; every event of the run carries it as `context.testRun`. */
fun newRunId(prefix: String): String = "$prefix-${UUID.randomUUID()}"

/** A fresh, empty data directory for a client. */
fun newDataDir(runId: String): File = File(Env.workDir, runId).also { it.deleteRecursively() }

/** The config every test starts from: consent required (the default), events tagged with [runId]. */
fun testConfig(dataDir: File, runId: String, endpoint: String = Env.endpoint) = SpoorConfig(
    writeKey = Env.writeKey,
    endpoint = endpoint,
    dataDir = dataDir.path,
    context = jsonObjectOf("testRun" to runId, "app" to mapOf("name" to "spoor-kotlin-tests")),
)

/** A `product_clicked` event as the relay's tracking plan wants it, numbered [seq]. */
fun productClicked(seq: Int) = jsonObjectOf(
    "productId" to "p$seq",
    "category" to "shoes",
    "surface" to "home",
    "position" to seq,
    "seq" to seq,
)

/** Polls [client]'s stats until [done] holds, at most [timeoutMs]; returns the last stats. */
fun waitFor(client: SpoorClient, what: String, timeoutMs: Long = 60_000, done: (SpoorStats) -> Boolean): SpoorStats {
    val deadline = System.nanoTime() + timeoutMs * 1_000_000
    while (true) {
        val stats = client.stats()
        if (done(stats)) return stats
        check(System.nanoTime() < deadline) { "timed out after $timeoutMs ms waiting for $what; stats: $stats" }
        Thread.sleep(20)
    }
}

/** The relay's log, read with `spoor log cat` (NDJSON, one stored event per line). */
object RelayLog {
    /** Every stored event whose `context.testRun` is [runId]. */
    fun events(runId: String): List<Map<String, Any?>> {
        val process = ProcessBuilder(Env.spoorBin, "log", "cat", "--data-dir", Env.relayDataDir)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val lines = process.inputStream.bufferedReader().readLines()
        check(process.waitFor() == 0) { "spoor log cat failed with exit code ${process.exitValue()}" }
        return lines.filter { it.isNotBlank() && it.contains(runId) }
            .map { Json.parse(it).asObject() }
            .filter { it.obj("context")["testRun"] == runId }
    }
}

/** A child JVM running [mainClass] with this JVM's class path and library path. */
class ChildJvm(mainClass: String, vararg args: String) {
    val process: Process = ProcessBuilder(
        listOf(
            File(System.getProperty("java.home"), "bin/java").path,
            "-cp", System.getProperty("java.class.path"),
            "-Djna.library.path=${System.getProperty("jna.library.path")}",
            mainClass,
        ) + args,
    ).redirectError(ProcessBuilder.Redirect.INHERIT).start()
    private val out = process.inputStream.bufferedReader()

    /** Reads the child's stdout until a line starting with [prefix]; returns that line. */
    fun awaitLine(prefix: String, timeoutMs: Long = 60_000): String {
        val deadline = System.nanoTime() + timeoutMs * 1_000_000
        while (System.nanoTime() < deadline) {
            val line = out.readLine() ?: error("the child exited (code ${process.waitFor()}) before printing $prefix")
            if (line.startsWith(prefix)) return line
        }
        error("the child did not print $prefix within $timeoutMs ms")
    }

    /** SIGKILL: the process dies at once, whatever its threads are doing. Returns the exit code. */
    fun kill(): Int {
        process.destroyForcibly()
        check(process.waitFor(30, TimeUnit.SECONDS)) { "the child did not die" }
        return process.exitValue()
    }
}

/** Whether any file under [dir] contains [marker] (the SQLite file, its WAL and journal). */
fun filesContain(dir: File, marker: String): Boolean {
    val needle = marker.toByteArray()
    return dir.walk().filter { it.isFile }.any { file -> indexOf(file.readBytes(), needle) >= 0 }
}

private fun indexOf(haystack: ByteArray, needle: ByteArray): Int {
    outer@ for (i in 0..haystack.size - needle.size) {
        for (j in needle.indices) if (haystack[i + j] != needle[j]) continue@outer
        return i
    }
    return -1
}

@Suppress("UNCHECKED_CAST")
fun Any?.asObject(): Map<String, Any?> = this as? Map<String, Any?> ?: error("not a JSON object: $this")

/** The object at [key], or an empty one. */
fun Map<String, Any?>.obj(key: String): Map<String, Any?> = (this[key] ?: emptyMap<String, Any?>()).asObject()

/** A small JSON reader for the relay's log: objects, arrays, strings, Long, Double, Boolean, null. */
object Json {
    fun parse(text: String): Any? = Reader(text).run { value().also { skipSpace(); check(pos == text.length) { "trailing data" } } }

    private class Reader(val s: String) {
        var pos = 0

        fun skipSpace() {
            while (pos < s.length && s[pos].isWhitespace()) pos++
        }

        fun value(): Any? {
            skipSpace()
            return when (val c = s[pos]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c.isDigit()) number() else error("unexpected '$c' at $pos")
            }
        }

        fun literal(word: String, value: Any?): Any? {
            check(s.startsWith(word, pos)) { "bad literal at $pos" }
            pos += word.length
            return value
        }

        fun obj(): Map<String, Any?> {
            val map = LinkedHashMap<String, Any?>()
            pos++
            skipSpace()
            if (s[pos] == '}') return map.also { pos++ }
            while (true) {
                skipSpace()
                val key = string()
                skipSpace()
                check(s[pos++] == ':') { "expected : at $pos" }
                map[key] = value()
                skipSpace()
                when (s[pos++]) {
                    ',' -> continue
                    '}' -> return map
                    else -> error("expected , or } at $pos")
                }
            }
        }

        fun array(): List<Any?> {
            val list = ArrayList<Any?>()
            pos++
            skipSpace()
            if (s[pos] == ']') return list.also { pos++ }
            while (true) {
                list.add(value())
                skipSpace()
                when (s[pos++]) {
                    ',' -> continue
                    ']' -> return list
                    else -> error("expected , or ] at $pos")
                }
            }
        }

        fun string(): String {
            check(s[pos++] == '"') { "expected a string at $pos" }
            val out = StringBuilder()
            while (true) {
                when (val c = s[pos++]) {
                    '"' -> return out.toString()
                    '\\' -> when (val e = s[pos++]) {
                        'n' -> out.append('\n')
                        't' -> out.append('\t')
                        'r' -> out.append('\r')
                        'b' -> out.append('\b')
                        'f' -> out.append('\u000c')
                        'u' -> out.append(s.substring(pos, pos + 4).toInt(16).toChar()).also { pos += 4 }
                        else -> out.append(e)
                    }
                    else -> out.append(c)
                }
            }
        }

        fun number(): Any {
            val start = pos
            while (pos < s.length && (s[pos].isDigit() || s[pos] in "+-.eE")) pos++
            val text = s.substring(start, pos)
            return if (text.any { it in ".eE" }) text.toDouble() else text.toLong()
        }
    }
}

/** One named test. */
class TestCase(val name: String, val body: () -> Unit)

/** Runs [tests] (those whose name contains one of [filters], or all), prints each result; exits 1 on a failure. */
fun runTests(tests: List<TestCase>, filters: List<String>) {
    val selected = tests.filter { t -> filters.isEmpty() || filters.any { t.name.contains(it) } }
    var failed = 0
    for (test in selected) {
        val started = System.nanoTime()
        val error = try {
            test.body()
            null
        } catch (e: Throwable) {
            e
        }
        val ms = (System.nanoTime() - started) / 1_000_000
        if (error == null) {
            println("test ${test.name} ... ok ($ms ms)")
        } else {
            failed++
            println("test ${test.name} ... FAILED ($ms ms)")
            error.printStackTrace(System.out)
        }
    }
    println("kotlin: ${selected.size - failed} passed, $failed failed")
    if (failed > 0 || selected.isEmpty()) kotlin.system.exitProcess(1)
}
