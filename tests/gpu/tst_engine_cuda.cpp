// End to end: the same Engine on the CUDA backend and on the CPU backend, on the demo model (random
// weights, F16 as stored, written at test time by writeDemoModel). Guards: a backend op that passes
// its parity test but is called differently by the model (views, offsets, aliasing, KV cache rows),
// Auto selection picking CUDA when a device exists. Tolerances: first-step logits NMSE <= 1e-5 (F16
// weights; activations rounded to F16 for prefill GEMMs); the first greedy token must be identical;
// later tokens are reported (random-weight logits are flat, so a near-tie may legitimately flip).
// Skips, with the reason, when no CUDA device is usable.
#include <QtTest>

#include "engine/enginetesthelpers.h"
#include "gpu/paritykit.h"
#include "llava/demomodel.h"
#include "llava_cuda/cuda_backend.h"

using namespace llava;

namespace {

struct Run {
    test::Recorded reply;
    std::vector<float> firstLogits;
    BackendReport report;
};

Run runOn(const std::filesystem::path& dir, BackendKind kind, const BackendRegistry& registry) {
    Run run;
    EngineOptions options;
    options.backend = kind;
    options.registry = &registry;
    options.threads = 2;
    options.contextLength = 2048;
    auto engine = Engine::load(dir, options);
    if (!engine.isOk()) qFatal("load on %s: %s", backendKindName(kind).data(), engine.status().toString().c_str());
    (*engine)->setDebugHook([&](std::string_view name, std::span<const float> data, const Shape&) {
        if (name == "logits" && run.firstLogits.empty()) run.firstLogits.assign(data.begin(), data.end());
    });
    run.report = (*engine)->backendReport();
    const UserMessage message{"What is in this picture?", {test::patternImage(320, 240)}};
    run.reply = test::replyRecorded((*engine)->session(), message, test::greedy(16));
    return run;
}

}  // namespace

class TestEngineCuda : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::filesystem::path m_dir;
    BackendRegistry m_registry;

private slots:
    void initTestCase() {
        auto probe = cuda::createCudaBackend(BackendRequest{});
        if (!probe.isOk()) QSKIP(qPrintable("no usable CUDA device: " + QString::fromStdString(probe.status().message())));
        cuda::registerCudaBackend(m_registry);
        QVERIFY(m_tmp.isValid());
        m_dir = std::filesystem::path(m_tmp.path().toStdString()) / "demo";
        auto info = writeDemoModel(m_dir);
        QVERIFY2(info.isOk(), info.status().toString().c_str());
    }

    void autoPicksCuda() {
        auto choice = m_registry.create(BackendKind::Auto, BackendRequest{});
        QVERIFY2(choice.isOk(), choice.status().toString().c_str());
        QCOMPARE(choice->backend->info().name, std::string("cuda"));
        QVERIFY(choice->fallbackReason.empty());
        BackendRequest tooBig;
        tooBig.requiredBytes = std::uint64_t(1) << 50;  // 1 PiB: Auto must fall back with the reason
        auto fallback = m_registry.create(BackendKind::Auto, tooBig);
        QVERIFY(fallback.isOk());
        QCOMPARE(fallback->backend->info().name, std::string("cpu"));
        QVERIFY2(fallback->fallbackReason.find("free") != std::string::npos, fallback->fallbackReason.c_str());
    }

    void greedyCudaMatchesCpu() {
        const Run cuda = runOn(m_dir, BackendKind::Cuda, m_registry);
        const Run cpu = runOn(m_dir, BackendKind::Cpu, m_registry);
        QVERIFY2(cuda.reply.stats.isOk(), cuda.reply.stats.status().toString().c_str());
        QVERIFY2(cpu.reply.stats.isOk(), cpu.reply.stats.status().toString().c_str());
        QCOMPARE(cuda.report.name, std::string("cuda"));
        qInfo("cuda: %s, weights %.1f MiB, kv %.1f MiB", cuda.report.device.c_str(),
              double(cuda.report.memory.weightBytes) / 1048576.0, double(cuda.report.memory.kvCacheBytes) / 1048576.0);
        QVERIFY(!cuda.firstLogits.empty());
        QCOMPARE(cuda.firstLogits.size(), cpu.firstLogits.size());
        const double e = test::nmse(cuda.firstLogits, cpu.firstLogits);
        qInfo("first-step logits NMSE %.3e", e);
        QVERIFY(e <= 1e-5);
        QVERIFY(!cuda.reply.ids.empty() && !cpu.reply.ids.empty());
        QCOMPARE(cuda.reply.ids.front(), cpu.reply.ids.front());
        std::size_t same = 0;
        while (same < cuda.reply.ids.size() && same < cpu.reply.ids.size() && cuda.reply.ids[same] == cpu.reply.ids[same]) ++same;
        qInfo("identical greedy prefix: %zu of %zu tokens", same, cpu.reply.ids.size());
    }
};

QTEST_GUILESS_MAIN(TestEngineCuda)
#include "tst_engine_cuda.moc"
