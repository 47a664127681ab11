// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import PropertyBased
import Testing

@testable import VigilCore

/// Real line shapes of each supported format: a few lines per format, repeated to form a detection sample.
@Suite struct LogFormatTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let lines: [String]
        let message: String
        let severity: Severity
        let component: String?
        let time: String?
        var testDescription: String { self.name }
    }

    static let cases: [Case] = [
        Case(
            name: "HDFS",
            lines: [
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
                "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864",
            ],
            message: "PacketResponder 1 for block blk_38865049064139660 terminating",
            severity: .info,
            component: "dfs.DataNode$PacketResponder",
            time: "2008-11-09T20:36:15Z"
        ),
        Case(
            name: "log4j (Hadoop)",
            lines: [
                "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
                "2015-10-18 18:01:48,963 WARN [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Executing with tokens:",
            ],
            message: "Created MRAppMaster for application appattempt_1445144423722_0020_000001",
            severity: .info,
            component: "org.apache.hadoop.mapreduce.v2.app.MRAppMaster",
            time: "2015-10-18T18:01:47.978Z"
        ),
        Case(
            name: "Spark",
            lines: [
                "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]",
                "17/06/09 20:10:41 ERROR spark.SecurityManager: Changing view acls to: yarn,curi",
            ],
            message: "Registered signal handlers for [TERM, HUP, INT]",
            severity: .info,
            component: "executor.CoarseGrainedExecutorBackend",
            time: "2017-06-09T20:10:40Z"
        ),
        Case(
            name: "syslog RFC 3164 (OpenSSH)",
            lines: [
                "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.example.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
                "Dec 10 06:55:48 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
            ],
            message:
                "reverse mapping checking getaddrinfo for ns.example.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
            severity: .error,
            component: "sshd",
            time: "1970-12-10T06:55:46Z"
        ),
        Case(
            name: "Android logcat",
            lines: [
                "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app wtoken = AppWindowToken{9f4ef63}",
                "03-17 16:13:38.819  1702  8671 W PowerManagerService: acquire lock=233570404, flags=0x1",
            ],
            message: "printFreezingDisplayLogsopening app wtoken = AppWindowToken{9f4ef63}",
            severity: .debug,
            component: "WindowManager",
            time: "1970-03-17T16:13:38.811Z"
        ),
        Case(
            name: "Apache error",
            lines: [
                "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
                "[Sun Dec 04 04:51:08 2005] [error] mod_jk child workerEnv in error state 6",
            ],
            message: "workerEnv.init() ok /etc/httpd/conf/workers2.properties",
            severity: .notice,
            component: nil,
            time: "2005-12-04T04:47:44Z"
        ),
        Case(
            name: "BGL",
            lines: [
                "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
                "KERNDTLB 1118536327 2005.06.11 R30-M0-N9-C:J16-U01 2005-06-11-17.32.07.581048 R30-M0-N9-C:J16-U01 RAS KERNEL FATAL data TLB error interrupt",
            ],
            message: "instruction cache parity error corrected",
            severity: .info,
            component: nil,
            time: "2005-06-03T22:42:50Z"
        ),
        Case(
            name: "HPC",
            lines: [
                "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: Component alt0 is in the unavailable state (HWID=1973)",
                "2286759 full partition status 1061219795 -1 running",
            ],
            message: "Component State Change: Component alt0 is in the unavailable state (HWID=1973)",
            severity: .unknown,
            component: nil,
            time: "2004-02-26T14:12:22Z"
        ),
        Case(
            name: "Thunderbird",
            lines: [
                "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root",
                "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond[2916]: (root) CMD (run-parts /etc/cron.hourly)",
            ],
            message: "session closed for user root",
            severity: .unknown,
            component: "crond(pam_unix)",
            time: "2005-11-09T20:01:01Z"
        ),
        Case(
            name: "ZooKeeper (log4j with dashes)",
            lines: [
                "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
                "2015-07-29 19:04:12,394 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@679] - Interrupted while waiting for message on queue",
            ],
            message: "Notification time out: 3200",
            severity: .info,
            component: nil,
            time: "2015-07-29T17:41:44.747Z"
        ),
        Case(
            name: "HealthApp (pipe-separated)",
            lines: [
                "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
                "20171223-22:15:29:615|Step_StandReportReceiver|30002312|REPORT : 7007 5002 150089 240",
            ],
            message: "onStandStepChanged 3579",
            severity: .unknown,
            component: nil,
            time: "2017-12-23T22:15:29.606Z"
        ),
        Case(
            name: "Proxifier",
            lines: [
                "[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS",
                "[10.30 16:49:07] chrome.exe - proxy.cse.cuhk.edu.hk:5070 close, 0 bytes sent, 0 bytes received, lifetime <1 sec",
            ],
            message: "proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS",
            severity: .unknown,
            component: nil,
            time: "1970-10-30T16:49:06Z"
        ),
        Case(
            name: "OpenStack",
            lines: [
                #"nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 54fdadf6c7a4fd6baa3a1fc6cb1a5e2 - - -] 10.11.10.1 "GET /v2/54fdadf6c7a4fd6baa3a1fc6cb1a5e2/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829"#,
                #"nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 INFO nova.compute.manager [req-3ea4052c-895d-4b64-9e2d-04d64c4d94ab - - - - -] [instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started (Lifecycle Event)"#,
            ],
            message:
                #"10.11.10.1 "GET /v2/54fdadf6c7a4fd6baa3a1fc6cb1a5e2/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829"#,
            severity: .info,
            component: nil,
            time: "2017-05-16T00:00:00.008Z"
        ),
        Case(
            name: "Python logging",
            lines: [
                "2024-10-10 13:55:36,123 - payments.api - WARNING - retrying charge 42 after timeout",
                "2024-10-10 13:55:37,001 - payments.api - INFO - charge 42 settled",
            ],
            message: "retrying charge 42 after timeout",
            severity: .warning,
            component: nil,
            time: "2024-10-10T13:55:36.123Z"
        ),
        Case(
            name: "bracketed custom",
            lines: [
                "[2024-10-10 13:55:36.123] [WARN] [RequestHandler] slow request /api/v1/orders took 2300ms",
                "[2024-10-10 13:55:37.456] [INFO] [RequestHandler] request /api/v1/orders ok",
            ],
            message: "slow request /api/v1/orders took 2300ms",
            severity: .warning,
            component: nil,
            time: "2024-10-10T13:55:36.123Z"
        ),
        Case(
            name: "klog",
            lines: [
                "I1010 13:55:36.123456   12345 controller.go:123] Successfully synced pod default/web-0",
                "E1010 13:55:37.000001   12345 controller.go:140] Failed to sync pod default/web-1: timeout",
            ],
            message: "Successfully synced pod default/web-0",
            severity: .info,
            component: "controller.go:123",
            time: "1970-10-10T13:55:36.123Z"
        ),
        Case(
            name: "JSON lines",
            lines: [
                #"{"ts":"2024-10-10T13:55:36.123Z","level":"error","service":"checkout","msg":"payment declined","order":42}"#,
                #"{"ts":"2024-10-10T13:55:37.000Z","level":"info","service":"checkout","msg":"order placed","order":43}"#,
            ],
            message: "payment declined",
            severity: .error,
            component: nil,
            time: "2024-10-10T13:55:36.123Z"
        ),
        Case(
            name: "journalctl -o json",
            lines: [
                #"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1728568536123456","PRIORITY":"3","_SYSTEMD_UNIT":"nginx.service","SYSLOG_IDENTIFIER":"nginx","MESSAGE":"worker process 12 exited on signal 9"}"#,
                #"{"__CURSOR":"s=1;i=3","__REALTIME_TIMESTAMP":"1728568537000000","PRIORITY":"6","_SYSTEMD_UNIT":"nginx.service","SYSLOG_IDENTIFIER":"nginx","MESSAGE":"reloading"}"#,
            ],
            message: "worker process 12 exited on signal 9",
            severity: .error,
            component: nil,
            time: "2024-10-10T13:55:36.123Z"
        ),
        Case(
            name: "Python logging's default",
            lines: [
                "ERROR:app.db:connection lost: server closed the connection unexpectedly",
                "INFO:uvicorn.access:10.0.0.7:5123 - GET /health 200",
                "WARNING:__main__:retrying in 2 s",
            ],
            message: "connection lost: server closed the connection unexpectedly",
            severity: .error,
            component: "app.db",
            time: nil
        ),
        Case(
            name: "Ruby's Logger",
            lines: [
                #"E, [2024-10-10T13:55:36.123456 #1234] ERROR -- app: PG::ConnectionBad: could not connect to server"#,
                #"I, [2024-10-10T13:55:37.000001 #1234]  INFO -- : Started GET "/orders/7" for 10.0.0.1"#,
            ],
            message: "PG::ConnectionBad: could not connect to server",
            severity: .error,
            component: "app",
            time: "2024-10-10T13:55:36.123Z"
        ),
        Case(
            name: "pino (numeric levels)",
            lines: [
                #"{"level":50,"time":1728568536123,"pid":7,"hostname":"web-1","msg":"request handler crashed"}"#,
                #"{"level":30,"time":1728568537000,"pid":7,"hostname":"web-1","msg":"listening"}"#,
            ],
            message: "request handler crashed",
            severity: .error,
            component: nil,
            time: "2024-10-10T13:55:36.123Z"
        ),
        Case(
            name: "logfmt",
            lines: [
                #"time=2024-10-10T13:55:36Z level=warn msg="cache miss storm" keys=120 service=api"#,
                #"time=2024-10-10T13:55:37Z level=info msg="cache warmed" keys=0 service=api"#,
            ],
            message: "cache miss storm",
            severity: .warning,
            component: nil,
            time: "2024-10-10T13:55:36Z"
        ),
        Case(
            name: "syslog RFC 5424",
            lines: [
                #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event log entry"#,
                "<86>1 2003-10-11T22:14:16.000Z mymachine.example.com sshd 4242 - - session opened",
            ],
            message: "An application event log entry",
            severity: .notice,
            component: nil,
            time: "2003-10-11T22:14:15.003Z"
        ),
        Case(
            name: "Apache combined access",
            lines: [
                #"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08""#,
                #"10.0.0.7 - - [10/Oct/2000:13:56:01 -0700] "POST /login HTTP/1.1" 302 0 "-" "curl/8.0""#,
            ],
            message: #""GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08""#,
            severity: .info,
            component: nil,
            time: "2000-10-10T20:55:36Z"
        ),
    ]

    @Test(arguments: cases)
    func splitsHeaderFromMessage(_ format: Case) throws {
        let sample = (0..<20).flatMap { _ in format.lines }.map { Array($0.utf8) }
        let detected = LogFormat.detect(sample: sample)
        #expect(detected != .plain, "\(format.name) was not recognised")
        let reader = LogRecordReader(format: detected)
        let line = Array(format.lines[0].utf8)
        let parsed = reader.record(from: line.span, lineNumber: 1)
        let record = try #require(parsed, "\(detected.name)")
        #expect(record.message == format.message, "\(detected.name)")
        #expect(record.severity == format.severity)
        #expect(record.fields["component"] == format.component)
        #expect(record.timestamp?.iso8601 == format.time)
    }

    @Test func unknownTextFallsBackToWholeLineMessages() {
        let sample = ["hello world", "this is just prose", "with no header at all"].map { Array($0.utf8) }
        #expect(LogFormat.detect(sample: sample) == .plain)
        let reader = LogRecordReader(format: .plain)
        let line = Array("hello world".utf8)
        #expect(reader.record(from: line.span, lineNumber: 1)?.message == "hello world")
    }

    @Test func binaryGarbageIsNeverAnError() {
        var generator = SystemRandomNumberGenerator()
        let sample = (0..<50).map { _ in (0..<200).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let format = LogFormat.detect(sample: sample)
        let reader = LogRecordReader(format: format)
        for line in sample {
            let record =
                reader.record(from: line.span, lineNumber: 1) ?? reader.fallbackRecord(from: line.span, lineNumber: 1)
            #expect(record.lineNumber == 1)
        }
    }

    /// Fragments of JSON, logfmt, syslog and headers glued at random: every line becomes a record, no trap.
    @Test func mangledStructuredLinesNeverTrap() async {
        let pieces = [
            "{", "}", "[", "]", "\"", "\\", "\\u00", "\\uD83D", ":", ",", "=", " ", "<34>1 ", "level=", "msg=",
            "\"ts\":",
            "2024-10-10T13:55:36Z", "12:00:01", "INFO", "ERROR", "Jul", "9999999999999", "-", "|", "x", "\u{00e9}",
        ]
        let line = Gen.int(in: 0...(pieces.count - 1)).map { pieces[$0] }.array(of: 0...30).map { $0.joined() }
        await propertyCheck(count: 500, input: line.array(of: 1...20)) { lines in
            let sample = lines.map { Array($0.utf8) }
            let reader = LogRecordReader(format: LogFormat.detect(sample: sample))
            for bytes in sample {
                let record =
                    reader.record(from: bytes.span, lineNumber: 7)
                    ?? reader.fallbackRecord(from: bytes.span, lineNumber: 7)
                #expect(record.lineNumber == 7)
            }
        }
    }
}
