// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Lethe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lethe", targets: ["lethe"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // System libraries (pkg-config). Only the thin Swift wrapper directly above each imports it.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CXSMM", pkgConfig: "libxsmm", providers: [.apt(["libxsmm-dev"])]),

        .target(name: "Tensor", dependencies: ["COpenBLAS", "CXSMM"], swiftSettings: fast),
        // The engine's C kernels (Winograd's transforms, the pooled convolution's max-pool), compiled for AVX-512,
        // AVX2 and baseline x86-64 (picked at load time), optimised in debug builds too and never contracted into
        // fused multiply-adds (the same bits on every CPU).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]),
        // protobuf-c code generated from proto/onnx.proto by scripts/gen-proto.sh (committed), and its decoder.
        .target(name: "ONNXProtoC", dependencies: ["CProtobufC"]),
        .target(name: "ONNX", dependencies: ["ONNXProtoC", "CProtobufC", "Tensor"]),
        .target(
            name: "NN",
            dependencies: ["Tensor", "ONNX", "CKernels", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: fast),
        .target(name: "Checkpoint", dependencies: ["Tensor", "NN", "ONNX"]),
        .target(
            name: "Data",
            dependencies: ["Tensor", "CZlib", "CDeflate", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: fast),
        .target(name: "Unlearning", dependencies: ["NN", "Data"], swiftSettings: fast),
        // Federated learning's arithmetic: client partitions, backdoors, FedAvg, contribution ledgers, ConDa.
        .target(name: "Federated", dependencies: ["Tensor", "NN", "Data"], swiftSettings: fast),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        // protobuf-c code generated from proto/lethe.proto by scripts/gen-proto.sh (committed).
        .target(name: "LetheProtoC", dependencies: ["CProtobufC"]),
        .target(name: "Wire", dependencies: ["LetheProtoC", "Tensor", "Unlearning"]),
        // How the daemons talk: the transport protocol (ZeroMQ and in-memory), blobs, keys, weights versions.
        .target(
            name: "Transport",
            dependencies: [
                "Wire", "ZeroMQ", "NN", "Tensor", .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // What a job is, wherever it runs: scenario, run, verdict, reports (no processes, no sockets).
        .target(
            name: "Jobs",
            dependencies: [
                "Wire", "Unlearning", "Federated", "Checkpoint", "Data", "NN", "Tensor",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The coordinator daemon: worker pool, remote executor, client roster, federated rounds, state directory;
        // it runs jobs (`Jobs`) with plans over workers, parameter-server style.
        .target(
            name: "Coordinator",
            dependencies: [
                "Transport", "Jobs", "Wire", "ZeroMQ", "Unlearning", "Federated", "Checkpoint", "Data", "NN", "Tensor",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The worker daemon and the federated client: shard and client computations for a coordinator.
        .target(
            name: "Worker",
            dependencies: [
                "Transport", "Jobs", "Wire", "Unlearning", "Federated", "Checkpoint", "Data", "NN", "Tensor",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .target(
            name: "LetheCommands",
            dependencies: [
                "Tensor", "NN", "Checkpoint", "Data", "Unlearning", "Federated", "ZeroMQ", "Transport", "Jobs",
                "Coordinator", "Worker", "Wire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "lethe", dependencies: ["LetheCommands", "Tensor"]),
        .target(name: "LetheTesting", dependencies: ["Tensor", "NN", "Checkpoint", "Data"]),

        .testTarget(name: "TensorTests", dependencies: ["Tensor", "LetheTesting"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Checkpoint", "LetheTesting"], exclude: ["Fixtures"]),
        .testTarget(
            name: "ONNXTests", dependencies: ["ONNX", "NN", "Checkpoint", "LetheTesting"], exclude: ["Fixtures"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "NN", "LetheTesting"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "LetheTesting"]),
        .testTarget(name: "UnlearningTests", dependencies: ["Unlearning", "LetheTesting"]),
        .testTarget(name: "FederatedTests", dependencies: ["Federated", "LetheTesting"]),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "LetheTesting"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "Wire", "NN", "Tensor", "LetheTesting"]),
        .testTarget(
            name: "JobsTests",
            dependencies: ["Jobs", "Unlearning", "Data", "NN", "Tensor", "Checkpoint", "LetheTesting"]),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "Worker", "Transport", "Jobs", "Wire", "Unlearning", "Data", "NN", "Tensor", "LetheTesting",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "CoordinatorTests",
            dependencies: [
                "Transport", "Jobs", "Coordinator", "Worker", "Wire", "ZeroMQ", "Unlearning", "Federated", "Checkpoint",
                "Data",
                "NN", "Tensor", "LetheTesting", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "LetheCommandsTests",
            dependencies: [
                "LetheCommands", "Transport", "Jobs", "Coordinator", "Worker", "Checkpoint", "Data", "LetheTesting",
                "Wire", "ZeroMQ", .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)

/// Numeric hot loops: release builds drop bounds checks; debug builds (the tests) keep them but are optimised,
/// as the SIMD kernels run hundreds of times slower unspecialised (a -Onone max-pool took 0.5 s a batch, and
/// the tests' CNN passes then starved the in-memory daemons' cooperative pool for minutes).
var fast: [SwiftSetting] {
    [.unsafeFlags(["-Ounchecked"], .when(configuration: .release)), .unsafeFlags(["-O"], .when(configuration: .debug))]
}
