// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct HeaderGrammarTests {
    private func learn(_ lines: [String]) -> HeaderGrammar? {
        HeaderGrammar.learn(from: lines.map { Array($0.utf8) })
    }

    @Test func learnsAComponentTerminatedHeader() throws {
        let grammar = try #require(
            learn(
                (0..<30).map {
                    "2024-10-10 13:55:\(10 + $0 % 50),123 INFO [main] com.shop.Service\($0 % 3): step \($0) done"
                }
            )
        )
        #expect(grammar.summary == "time time level [bracket] component:")
    }

    @Test func ignoresIndentedAndExceptionLinesWhenLearning() throws {
        var lines: [String] = []
        for index in 0..<10 {
            lines.append("2024-10-10 13:55:36,123 ERROR [main] com.shop.Checkout: failure \(index)")
            lines += [
                "java.lang.IllegalStateException: boom", "\tat com.shop.A.b(A.java:1)", "\tat com.shop.C.d(C.java:2)",
            ]
        }
        #expect(learn(lines)?.summary == "time time level [bracket] component:")
    }

    @Test func aColonAfterTheMessagesFirstWordsIsNoComponent() throws {
        // A Spring service logging the same message over and over: its words and `username:` agree on every line,
        // but they follow the thread's bracket, so they are the message, and the name is its variable.
        let grammar = try #require(
            learn(
                (0..<32).map {
                    "16:50:\(10 + $0).757 INFO  a.c.UserController#43 [http-nio-12340-exec-\($0 % 8)] "
                        + "Login request of username: user\($0 * 37 % 500)"
                }
            )
        )
        #expect(grammar.summary == "time level word [bracket]")
        let line = Array("16:51:02.001 INFO  a.c.UserController#43 [exec-2] Login request of username: bob".utf8)
        let lineSplit = grammar.split(line.span)
        let split = try #require(lineSplit)
        #expect(String(decoding: line[split.messageStart...], as: UTF8.self) == "Login request of username: bob")
    }

    @Test func aNumberAfterTheLevelIsTheMessagesToo() throws {
        // Twenty lines of one error, or a syslog line's level and structured data: `payment 42 declined:` agrees on
        // every line, yet it is what happened, not who said it.
        let repeated = try #require(
            learn((0..<20).map { "ERROR payment \(380 + $0) declined: upstream timeout after 3000 ms" })
        )
        #expect(repeated.summary == "level")
        let syslog = try #require(
            learn([#"ERROR [timeQuality tzKnown="1" isSynced="0"] payment 42 declined: expired"#])
        )
        #expect(syslog.summary == "level [bracket]")
    }

    @Test func springBootsColonOfItsOwnEndsTheHeader() throws {
        let messages = ["Login request of username: bob", "Query orders, user id: 42", "[getRouteById][RouteId: 7]"]
        let grammar = try #require(
            learn(
                (0..<30).map {
                    "2023-01-29 08:50:\(10 + $0).757  INFO 1 --- [http-nio-12340-exec-\($0 % 8)] "
                        + "\(["a.c.UserController", "o.s.OrderService"][$0 % 2])    : \(messages[$0 % 3])"
                }
            )
        )
        #expect(grammar.summary == "time time level number word [bracket] word component:")
        let line = Array("2023-01-29 08:51:02.001 ERROR 1 --- [exec-2] o.s.OrderService : Order 9 failed: timeout".utf8)
        let lineSplit = grammar.split(line.span)
        let split = try #require(lineSplit)
        #expect(String(decoding: line[split.messageStart...], as: UTF8.self) == "Order 9 failed: timeout")
    }

    @Test func rejectsLinesWithoutACommonHeader() {
        #expect(learn(["the quick brown fox", "jumps over", "42 lazy dogs today"]) == nil)
        #expect(learn([]) == nil)
    }

    @Test func linesThatDoNotFitAreNotSplit() throws {
        let grammar = try #require(learn((0..<10).map { "Jun 14 15:16:0\($0) combo sshd[\($0)]: hello \($0)" }))
        let foreign = Array("a line of another kind entirely".utf8)
        let foreignSplit = grammar.split(foreign.span)
        #expect(foreignSplit == nil)
        let fitting = Array("Jul  1 09:00:55 combo kernel: usb 1-1: new device".utf8)
        let fittingSplit = grammar.split(fitting.span)
        let split = try #require(fittingSplit)
        #expect(String(decoding: fitting[split.messageStart...], as: UTF8.self) == "usb 1-1: new device")
    }
}
