// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct LogStreamSplitterTests {
    private func split(_ text: String, join: Bool) -> [LogRecord] {
        var splitter = LogStreamSplitter(joinMultiline: join, sampleSize: 50)
        var records: [LogRecord] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            records += splitter.add(bytes.span)
        }
        return records + splitter.finish()
    }

    private let javaLog = """
        2024-10-10 13:55:36,123 INFO [main] com.shop.Checkout: order 1 placed
        2024-10-10 13:55:36,200 ERROR [main] com.shop.Checkout: payment failed
        java.lang.IllegalStateException: card declined
        \tat com.shop.Payment.charge(Payment.java:42)
        \tat com.shop.Checkout.place(Checkout.java:17)
        Caused by: java.net.SocketTimeoutException: Read timed out
        \t... 2 more
        2024-10-10 13:55:37,000 INFO [main] com.shop.Checkout: order 2 placed
        """

    @Test func joinsJavaStackTraces() {
        let records = self.split(self.javaLog, join: true)
        #expect(records.count == 3)
        #expect(records[1].lineCount == 6)
        #expect(records[1].message.hasPrefix("payment failed\njava.lang.IllegalStateException"))
        #expect(records[1].severity == .error)
        #expect(records[2].lineNumber == 8)
    }

    @Test func keepsOneRecordPerLineWhenNotJoining() {
        let records = self.split(self.javaLog, join: false)
        #expect(records.count == 8)
        #expect(records[2].message == "java.lang.IllegalStateException: card declined")
    }

    @Test func joinsPythonTracebacksInPlainText() {
        let text = """
            starting worker
            Traceback (most recent call last):
              File "app.py", line 3, in <module>
                main()
            ValueError: bad input
            worker stopped
            """
        let records = self.split(text, join: true)
        #expect(records.map(\.message.first) == ["s", "T", "w"])
        #expect(records[1].lineCount == 4)
        #expect(records[1].severity == .error)
    }

    @Test func joinsGoPanics() {
        let text = """
            2024/10/10 13:55:36 INFO server started
            2024/10/10 13:55:40 ERROR handler crashed
            panic: runtime error: index out of range [3] with length 3

            goroutine 1 [running]:
            main.main()
            \t/app/main.go:12 +0x1d
            2024/10/10 13:55:41 INFO server restarted
            """
        let records = self.split(text, join: true)
        #expect(records.count == 3)
        #expect(records[1].lineCount == 6)
    }

    /// The kubelet's files wrap each line of the application's in the CRI format: unwrapped, the application's own
    /// header gives the level (the tag `F` is no fatal level), a long line split in parts is one record again,
    /// and a record whose header names no time takes the runtime's.
    @Test func unwrapsTheCRIContainerLogFormat() {
        let wrapped = self.javaLog.split(separator: "\n").enumerated().map { index, line in
            "2024-10-10T13:55:3\(6 + index / 4).\(100_000_000 + index)Z \(index % 2 == 0 ? "stdout" : "stderr") F \(line)"
        }
        let records = self.split(wrapped.joined(separator: "\n"), join: true)
        #expect(records.count == 3)
        #expect(records.map(\.severity) == [.info, .error, .info])
        #expect(records[1].message.hasPrefix("payment failed\njava.lang.IllegalStateException"))
        #expect(records[0].timestamp?.iso8601 == "2024-10-10T13:55:36.123Z", "the application's own time")

        let parts = [
            "2024-10-10T13:55:36.5Z stdout P GET /cart 200 ",
            "2024-10-10T13:55:36.6Z stdout P in 12",
            "2024-10-10T13:55:36.7Z stdout F  ms",
            "2024-10-10T13:55:37.000000001Z stdout F ",
            "2024-10-10T13:55:38Z stdout F GET /cart 503 in 3 ms",
            "a line that lost its envelope",
        ]
        let plain = self.split(parts.joined(separator: "\n"), join: false)
        #expect(
            plain.map(\.message) == [
                "GET /cart 200 in 12 ms", "", "GET /cart 503 in 3 ms", "a line that lost its envelope",
            ]
        )
        #expect(
            plain.map { $0.timestamp?.iso8601 } == [
                "2024-10-10T13:55:36.700Z", "2024-10-10T13:55:37.000Z", "2024-10-10T13:55:38Z", nil,
            ]
        )
        #expect(plain.map(\.severity) == [.info, .unknown, .error, .unknown])
    }

    /// A record arrives when its first line did, though the line waited for the format to be learnt, for the rest of
    /// a stack trace, or for the end of a line the runtime split.
    @Test func aRecordArrivesWhenItsFirstLineDid() {
        var splitter = LogStreamSplitter(joinMultiline: true, sampleSize: 50)
        var records: [LogRecord] = []
        for (index, line) in self.javaLog.split(separator: "\n").enumerated() {
            records += splitter.add(Array(line.utf8).span, arrival: Timestamp(seconds: Double(100 + index)))
        }
        records += splitter.finish()
        #expect(records.map(\.arrival) == [100, 101, 107].map { Timestamp(seconds: $0) })

        var wrapped = LogStreamSplitter(sampleSize: 1)
        var parts: [LogRecord] = []
        for (index, line) in ["2024-10-10T13:55:36.5Z stdout P GET /cart ", "2024-10-10T13:55:36.6Z stdout F 200"]
            .enumerated()
        {
            parts += wrapped.add(Array(line.utf8).span, arrival: Timestamp(seconds: Double(200 + index)))
        }
        #expect(parts.map(\.message) == ["GET /cart 200"])
        #expect(parts.map(\.arrival) == [Timestamp(seconds: 200)])
    }

    @Test func aWrappedStreamSaysSo() {
        var wrapped = LogStreamSplitter(sampleSize: 2)
        var bare = LogStreamSplitter(sampleSize: 2)
        for text in [
            "2024-10-10T13:55:36Z stdout F {\"msg\": \"a\"}", "2024-10-10T13:55:37Z stdout F {\"msg\": \"b\"}",
        ] {
            let line = Array(text.utf8)
            _ = wrapped.add(line.span)
            let inner = Array(text.utf8.dropFirst(30))
            _ = bare.add(inner.span)
        }
        #expect(wrapped.formatName == "cri-wrapped json")
        #expect(bare.formatName == "json")
    }

    /// java.util.logging's default layout (Tomcat's catalina.out) writes each record on two lines: the time,
    /// class and method, then the level and the message, which is what the record says.
    @Test func joinsJavaUtilLoggingsTwoLineRecords() {
        let log = """
            Jan 29, 2023 8:50:01 PM org.apache.catalina.core.StandardService startInternal
            INFO: Starting service [Catalina]
            Jan 29, 2023 8:50:02 PM org.apache.catalina.connector.CoyoteAdapter service
            SEVERE: Exception processing request 12
            java.lang.NullPointerException: null
            \tat org.apache.catalina.connector.CoyoteAdapter.service(CoyoteAdapter.java:362)
            """
        let records = self.split(log, join: true)
        #expect(records.count == 2)
        #expect(records.map(\.severity) == [.info, .error])
        let headlines = records.map { $0.message.split(separator: "\n").first.map(String.init) }
        #expect(headlines == ["Starting service [Catalina]", "Exception processing request 12"])
        #expect(records[1].fields["component"] == "org.apache.catalina.connector.CoyoteAdapter service")
        #expect(records[1].lineCount == 4)
        #expect(records[0].timestamp?.iso8601 == "2023-01-29T20:50:01Z")
    }

    /// Python's `logging.basicConfig()` layout has no header of words and spaces, yet it names the level and the
    /// logger; a traceback after an error joins it.
    @Test func readsPythonLoggingsDefaultLayout() {
        let log = """
            INFO:root:worker 1 started
            ERROR:app.api:request 7 failed
            Traceback (most recent call last):
              File "app.py", line 12, in handle
            ValueError: bad input
            WARNING:app.db:slow query 812 ms
            """
        let records = self.split(log, join: true)
        #expect(records.map(\.severity) == [.info, .error, .warning])
        #expect(records.map { $0.fields["component"] } == ["root", "app.api", "app.db"])
        #expect(records[1].message.hasPrefix("request 7 failed\nTraceback"))
        #expect(records[1].lineCount == 4)
    }
}
