import Coordinator
import Data
import Federated
import Foundation
import Jobs
import LetheTesting
import NN
import Tensor
import Testing
import Transport
import Wire
import Worker

/// An in-memory federation: a roster and clients that each hold a third of a small 10-class dataset.
final class FederationFixture: @unchecked Sendable {
    let hub = InMemoryHub()
    let roster: ClientRoster
    let data = labelledDataset(perClass: Array(repeating: 12, count: 10), seed: 3)
    let test = labelledDataset(perClass: Array(repeating: 5, count: 10), seed: 4)
    let initial = try! ModelSpec.build("fmnist-mlp", seed: 7)
    private var runs: [Task<Void, Never>] = []

    /// `liveness` heartbeats of 100 ms may pass in silence before a client is dropped. The default (5 min) is
    /// generous because the tests share Swift's cooperative pool (two threads on CI) with heavy synchronous
    /// tests: a heartbeat's round trip then waits twice in its queue, and on CI that once took over 30 s. Only a
    /// test that needs a silent client detected shortens it.
    init(liveness: Int = 3000) {
        var settings = ClientRoster.Settings()
        settings.heartbeatMilliseconds = 100
        settings.liveness = liveness
        roster = ClientRoster(transport: hub.server, settings: settings)
        roster.start()
    }

    deinit {
        roster.stop()
        runs.forEach { $0.cancel() }
    }

    func partition(_ index: Int, of count: Int) -> Dataset {
        data.subset(indices: Array(stride(from: index, to: data.count, by: count)))
    }

    /// Starts client `index` of `count`, authenticated as "key-<index>"; returns its transport.
    @discardableResult
    func startClient(_ index: Int, of count: Int = 3) -> InMemoryTransport {
        let transport = hub.connect(key: "key-\(index)")
        let data = partition(index, of: count)
        let node = ClientNode(
            transport: transport, computer: ClientComputer(data: data),
            hello: Hello(
                name: "client-\(index)", kernelIdentity: "test", threads: 1, softwareVersion: "test", role: .client,
                classCounts: data.classCounts, partition: "\(index + 1)/\(count)"))
        runs.append(Task { await node.run() })
        return transport
    }

    func rounds(clients: Int = 3, _ extra: [String: String] = [:]) throws -> FederatedRounds {
        let params = ["clients": String(clients), "batch-size": "16", "deadline": "600", "lr": "0.05"].merging(extra) {
            $1
        }
        return FederatedRounds(
            job: "job-1", architecture: "fmnist-mlp", seed: 5, settings: try FederatedSettings(params), test: test,
            roster: roster)
    }

    func freshState() -> FederationState {
        FederationState(
            names: initial.stateDict().map(\.name),
            initial: Dictionary(uniqueKeysWithValues: initial.stateDict().map { ($0.name, $0.tensor) }))
    }

    func train(_ rounds: FederatedRounds, to count: Int, from start: FederationState? = nil) async throws
        -> FederationState
    {
        let start = start ?? freshState()
        return try await DedicatedThread.run(name: "federated") {
            var state = start
            try rounds.run(&state, rounds: count) { _ in }
            return state
        }
    }
}

func bits(_ state: FederationState) -> String { BitHash.of(state.globalStateDict.map(\.tensor)) }

struct FederatedRoundsTests {
    /// FedAvg is the sample-weighted mean of the clients' models, and each ledger holds |θ_client − θ_initial|.
    @Test func oneRoundAveragesTheClientsAndFillsTheirLedgers() async throws {
        let fixture = FederationFixture()
        (0..<3).forEach { fixture.startClient($0) }
        let state = try await fixture.train(try fixture.rounds(), to: 1)
        #expect(state.members.keys.sorted() == ["key-0", "key-1", "key-2"])
        let total = Float(state.members.values.reduce(0) { $0 + $1.samples })
        for name in ["fc1.weight", "fc3.bias"] {
            var mean = Tensor(zeros: state.global[name]!.shape)
            for identity in state.members.keys.sorted() {
                mean.add(state.lastModels[identity]![name]!, scaledBy: Float(state.members[identity]!.samples) / total)
                let expected = (state.lastModels[identity]![name]! - state.initial[name]!).map(abs)
                #expect(Tolerance.mismatch(state.ledgers[identity]!.sums[name]!, expected) == nil)
            }
            #expect(Tolerance.mismatch(state.global[name]!, mean) == nil)
        }
        #expect(state.ledgers.values.allSatisfy { $0.rounds == 1 })
        #expect(state.ledgerBytes == 3 * 4 * fixture.initial.parameterCount)
    }

    /// Same job seed and clients ⇒ the same bits; a coordinator restarted from a persisted round repeats them.
    @Test func aResumedFederationRepeatsTheBits() async throws {
        let first = FederationFixture()
        (0..<3).forEach { first.startClient($0) }
        let uninterrupted = try await first.train(try first.rounds(), to: 2)

        let second = FederationFixture()
        (0..<3).forEach { second.startClient($0) }
        let afterOne = try await second.train(try second.rounds(), to: 1)
        let persisted = try FederationState(decoding: try afterOne.encoded())
        #expect(persisted.round == 1 && persisted.ledgers == afterOne.ledgers)

        let restarted = FederationFixture()
        (0..<3).forEach { restarted.startClient($0) }
        let resumed = try await restarted.train(try restarted.rounds(), to: 2, from: persisted)
        #expect(bits(resumed) == bits(uninterrupted))
        #expect(resumed.ledgers == uninterrupted.ledgers)
        #expect(resumed.history.map(\.round) == [0, 1])
    }

    /// A client whose update has the wrong shape is refused and misses the round; the others carry on.
    @Test func aMisshapenUpdateIsRefused() async throws {
        let fixture = FederationFixture()
        (0..<2).forEach { fixture.startClient($0) }
        let liar = FakeClient(fixture.hub.connect(key: "key-liar"), name: "liar") { task, tensors in
            Envelope(
                .roundUpdate(
                    RoundUpdate(job: task.job, round: task.round, kind: task.kind, samples: 40, meanLoss: 1, seconds: 0)
                ),
                tensors: tensors.map { NamedTensor($0.name, Tensor(zeros: [3])) })
        }
        defer { liar.stop() }
        let state = try await fixture.train(try fixture.rounds(), to: 1)
        #expect(state.members.keys.sorted() == ["key-0", "key-1"])
        let missed = state.history[0].missed["key-liar"] ?? "took part"
        #expect(missed.contains("bad update"), "the liar's round: \(missed)")
        #expect(fixture.roster.refusalCounts["bad update"] == 1)
        #expect(state.global.values.allSatisfy { $0.isFinite })
    }

    /// FedAvg weights by samples, so a client that claims more than it registered with misses the round.
    @Test func anInflatedSampleCountIsRefused() async throws {
        let fixture = FederationFixture()
        (0..<2).forEach { fixture.startClient($0) }
        let boaster = FakeClient(fixture.hub.connect(key: "key-boaster"), name: "boaster") { task, tensors in
            Envelope(
                .roundUpdate(
                    RoundUpdate(
                        job: task.job, round: task.round, kind: task.kind, samples: 1_000_000, meanLoss: 1, seconds: 0)
                ), tensors: tensors)
        }
        defer { boaster.stop() }
        let state = try await fixture.train(try fixture.rounds(), to: 1)
        #expect(state.members.keys.sorted() == ["key-0", "key-1"])
        #expect(state.history[0].missed["key-boaster"] == "claimed 1000000 samples, registered 10")
    }

    /// A client that refuses every round (e.g. its data does not fit the model) keeps the round below quorum: the
    /// rounds give up after `refusalLimit` attempts with its reason instead of asking forever.
    @Test func refusalsThatKeepARoundBelowQuorumFailTheRounds() async throws {
        let fixture = FederationFixture()
        fixture.startClient(0)
        let refuser = FakeClient(fixture.hub.connect(key: "key-refuser"), name: "refuser") { _, _ in
            Envelope(.error(ProtocolError(.badRequest, "my images are 32×32, the model takes 28×28")))
        }
        defer { refuser.stop() }
        await #expect {
            _ = try await fixture.train(try fixture.rounds(clients: 2, ["quorum": "1.0"]), to: 1)
        } throws: { error in
            guard let refused = error as? RoundRefused else { return false }
            return refused.round == 1 && refused.attempts == FederatedRounds.refusalLimit
                && refused.reasons == ["refuser: my images are 32×32, the model takes 28×28"]
        }
    }

    /// A client that goes silent mid-round misses it (the round does not wait for its deadline) and takes part
    /// again once it says hello.
    @Test func aClientThatDropsOutRejoinsLater() async throws {
        let fixture = FederationFixture(liveness: 50)
        (0..<2).forEach { fixture.startClient($0) }
        let flaky = FakeClient(fixture.hub.connect(key: "key-flaky"), name: "flaky") { task, tensors in
            task.round == 0
                ? nil
                : Envelope(
                    .roundUpdate(
                        RoundUpdate(
                            job: task.job, round: task.round, kind: task.kind, samples: 10, meanLoss: 1, seconds: 0)
                    ), tensors: tensors)
        }
        defer { flaky.stop() }
        let rounds = try fixture.rounds()
        let afterOne = try await fixture.train(rounds, to: 1)
        #expect(afterOne.history[0].participants == ["key-0", "key-1"])
        #expect(afterOne.history[0].missed["key-flaky"] == "went silent")
        flaky.sayHello()
        let deadline = Date().addingTimeInterval(30)
        while !fixture.roster.clientList.contains(where: { $0.name == "flaky" && $0.online }), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let afterTwo = try await fixture.train(rounds, to: 2, from: afterOne)
        #expect(afterTwo.history[1].participants == ["key-0", "key-1", "key-flaky"])
        #expect(afterTwo.members["key-flaky"]?.rounds == [1])
    }

    /// Retraining without a client persists its rounds; resumed from one (a coordinator restart), it repeats the
    /// uninterrupted retraining's bits.
    @Test func aResumedRetrainRepeatsTheBits() async throws {
        let fixture = FederationFixture()
        (0..<3).forEach { fixture.startClient($0) }
        let rounds = try fixture.rounds()
        let source = try await fixture.train(rounds, to: 2)
        let forgetting = ClientForgetting(
            settings: try ForgettingSettings(method: "retrain", params: [:]), source: source,
            training: rounds.settings, rounds: rounds)
        let member = try ClientForgetting.member("client-2", in: source)
        let (uninterrupted, afterOne) = try await DedicatedThread.run(name: "retrain") {
            var afterOne: FederationState?
            let outcome = try forgetting.run(forgetting: member) { if $0.round == 1 { afterOne = $0 } }
            return (BitHash.of(outcome.weights.map(\.tensor)), try afterOne.map { try $0.encoded() })
        }
        let persisted = try FederationState(decoding: try #require(afterOne))
        #expect(persisted.stage == .retrain && persisted.round == 1)
        let resumed = try await DedicatedThread.run(name: "retrain-resumed") {
            BitHash.of(try forgetting.run(forgetting: member, resume: persisted).weights.map(\.tensor))
        }
        #expect(resumed == uninterrupted)
    }

    /// ConDa on a trained federation needs no client: it dampens some parameters of the forgotten client's.
    @Test func condaDampensTheForgottenClientsParameters() async throws {
        let fixture = FederationFixture()
        (0..<3).forEach { fixture.startClient($0) }
        let rounds = try fixture.rounds()
        let state = try await fixture.train(rounds, to: 2)
        let forgetting = ClientForgetting(
            settings: try ForgettingSettings(method: "conda", params: [:]), source: state,
            training: rounds.settings, rounds: rounds)
        let outcome = try forgetting.run(forgetting: try ClientForgetting.member("client-2", in: state))
        #expect((outcome.dampened ?? 0) > 0 && outcome.dampened! < outcome.dampenable!)
        #expect(outcome.weights.map(\.name) == state.names)
        #expect(throws: (any Error).self) { try ClientForgetting.member("nobody", in: state) }

        // toward=initial scales the move away from the initial weights instead: θ₀ + factor · (θ − θ₀).
        let anchored = ClientForgetting(
            settings: try ForgettingSettings(method: "conda", params: ["toward": "initial"]), source: state,
            training: rounds.settings, rounds: rounds)
        let moved = try anchored.run(forgetting: try ClientForgetting.member("client-2", in: state))
        #expect(moved.dampened == outcome.dampened)
        let weights = Dictionary(uniqueKeysWithValues: moved.weights.map { ($0.name, $0.tensor) })
        let (initial, global) = (state.initial["fc1.weight"]!.scalars, state.global["fc1.weight"]!.scalars)
        var (scaled, outside) = (0, 0)
        for (index, value) in weights["fc1.weight"]!.scalars.enumerated() {
            let (from, to) = (global[index] - initial[index], value - initial[index])
            if abs(to) > abs(from) + 1e-6 || to * from < -1e-12 { outside += 1 }
            if abs(to - from) > 1e-6 { scaled += 1 }
        }
        #expect(scaled > 0 && outside == 0)
        #expect(throws: (any Error).self) { try ForgettingSettings(method: "conda", params: ["toward": "sideways"]) }
    }
}

/// A scripted client: says hello and answers round tasks with `answer`; when that is nil it falls silent (no
/// answer, no heartbeats) until it says hello again.
final class FakeClient: @unchecked Sendable {
    private let transport: InMemoryTransport
    private let name: String
    private let silent = Flag()
    private var listener: Task<Void, Never>?

    init(
        _ transport: InMemoryTransport, name: String,
        answer: @escaping @Sendable (RoundTask, [NamedTensor]) -> Envelope<ClientToCoordinator>?
    ) {
        self.transport = transport
        self.name = name
        sayHello()
        listener = Task { [transport, silent] in
            for await received in transport.incoming {
                guard let envelope = try? WireCodec.decode(received.frames, as: CoordinatorToClient.self) else {
                    continue
                }
                switch envelope.message {
                case .heartbeat where !silent.value:
                    transport.send(Envelope(ClientToCoordinator.heartbeat), to: nil)
                case .roundTask(let task):
                    if var reply = answer(task, envelope.tensors) {
                        reply.requestID = envelope.requestID
                        transport.send(reply, to: nil)
                    } else {
                        silent.value = true
                    }
                default: break
                }
            }
        }
    }

    func sayHello() {
        silent.value = false
        transport.send(
            Envelope(
                ClientToCoordinator.hello(
                    Hello(
                        name: name, kernelIdentity: "test", threads: 1, softwareVersion: "test", role: .client,
                        classCounts: [10]))), to: nil)
    }

    func stop() {
        listener?.cancel()
        transport.close()
    }
}

/// A Boolean shared between threads.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
