// The CUDA self-check (selfcheck.h) and the registry's fallback, tested on the CPU: the "CUDA" factory
// registered here returns a CPU backend wrapped so that one named op returns a slightly wrong result
// (one output element moved by 10 % of the output's norm, NMSE 1e-2: far above every bound, the kind of error a
// wrong index or a lost block in a kernel gives). The check must fail naming exactly that op, Auto must
// fall back to the CPU with the reason and the report kept for the user, and an honest wrapper must pass
// (CPU vs CPU: NMSE 0) and be chosen. SelfCheck::Skip (--no-selfcheck) hands out the wrapper unchecked.
#include <QtTest>

#include <cmath>

#include "llava/backend.h"
#include "llava/demomodel.h"
#include "llava/engine.h"
#include "llava/selfcheck.h"

using namespace llava;

namespace {

// Forwards every op to a CPU backend; the op named `wrongOp` gets its output perturbed afterwards. It stands in
// for CUDA, whose decode matvec keeps fp32 activations, so it wraps the reference CPU backend: the default one
// rounds Q8/Q4 decode activations to int8 (NMSE ~2e-5 against the 1e-7 bound). autoKeepsAPassingBackend
// therefore also shows that the registry compares against createCpuReferenceBackend, not the int8 backend.
class PerturbedBackend final : public Backend {
public:
    explicit PerturbedBackend(std::string wrongOp) : m_inner(createCpuReferenceBackend(2)), m_wrongOp(std::move(wrongOp)) {}
    BackendInfo info() const override {
        BackendInfo i = m_inner->info();
        i.name = "cuda";
        i.device = "test double (CPU, wrong " + (m_wrongOp.empty() ? std::string("nothing") : m_wrongOp) + ")";
        return i;
    }
    Result<Tensor> allocate(const Shape& s, StorageFormat f, BufferRole r, std::string_view n) override { return m_inner->allocate(s, f, r, n); }
    void release(const Tensor& t) override { m_inner->release(t); }
    Status upload(const Tensor& d, const void* h, std::size_t b) override { return m_inner->upload(d, h, b); }
    Status download(const Tensor& s, void* h, std::size_t b) override { return m_inner->download(s, h, b); }
    Result<Tensor> uploadWeight(const TensorView& v, WeightPrecision p) override { return m_inner->uploadWeight(v, p); }
    Status synchronize() override { return m_inner->synchronize(); }
    Status matmul(const Tensor& o, const Tensor& x, const Tensor& w, const Tensor& b, MatmulMode m) override {
        return after("matmul", o, m_inner->matmul(o, x, w, b, m));
    }
    Status rmsNorm(const Tensor& o, const Tensor& x, const Tensor& w, float e) override { return after("rmsNorm", o, m_inner->rmsNorm(o, x, w, e)); }
    Status layerNorm(const Tensor& o, const Tensor& x, const Tensor& w, const Tensor& b, float e) override {
        return after("layerNorm", o, m_inner->layerNorm(o, x, w, b, e));
    }
    Status rope(const Tensor& x, int h, int d, int p, double t) override { return after("rope", x, m_inner->rope(x, h, d, p, t)); }
    Status attention(const Tensor& o, const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p) override {
        return after("attention", o, m_inner->attention(o, q, k, v, p));
    }
    Status quickGelu(const Tensor& x) override { return after("quickGelu", x, m_inner->quickGelu(x)); }
    Status gelu(const Tensor& x) override { return after("gelu", x, m_inner->gelu(x)); }
    Status siluMul(const Tensor& o, const Tensor& g, const Tensor& u) override { return after("siluMul", o, m_inner->siluMul(o, g, u)); }
    Status add(const Tensor& o, const Tensor& a, const Tensor& b) override { return after("add", o, m_inner->add(o, a, b)); }
    Status embed(const Tensor& o, const Tensor& t, std::span<const std::int32_t> ids) override {
        return after("embed", o, m_inner->embed(o, t, ids));
    }
    Status patchEmbed(const Tensor& o, const Tensor& p, const Tensor& w) override { return after("patchEmbed", o, m_inner->patchEmbed(o, p, w)); }
    Status copy(const Tensor& d, const Tensor& s) override { return after("copy", d, m_inner->copy(d, s)); }
    Result<std::int32_t> argmax(const Tensor& x, std::int64_t n) override {
        auto r = m_inner->argmax(x, n);
        if (m_wrongOp == "argmax" && r.isOk()) return *r == 0 ? 1 : 0;
        return r;
    }
    Status embedAt(const Tensor& o, const Tensor& t, const Tensor& s) override { return after("embedAt", o, m_inner->embedAt(o, t, s)); }
    Status ropeAt(const Tensor& x, int h, int d, const Tensor& s, double t) override { return after("ropeAt", x, m_inner->ropeAt(x, h, d, s, t)); }
    Status writeRowAt(const Tensor& c, const Tensor& s, const Tensor& st) override {
        return after("writeRowAt", c, m_inner->writeRowAt(c, s, st));
    }
    Status ropeWriteRowAt(const Tensor& c, const Tensor& s, int h, int d, const Tensor& st, double t) override {
        return after("ropeWriteRowAt", c, m_inner->ropeWriteRowAt(c, s, h, d, st, t));
    }
    Status attentionAt(const Tensor& o, const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
                       const Tensor& s) override {
        return after("attentionAt", o, m_inner->attentionAt(o, q, k, v, p, s));
    }
    Status runRecorded(std::string_view key, const std::function<Status()>& body) override { return m_inner->runRecorded(key, body); }

private:
    // Moves the middle element of an F32 output by 10 % of the output's norm (NMSE 1e-2).
    Status after(const char* op, const Tensor& out, Status s) {
        if (!s.isOk() || m_wrongOp != op || out.format != StorageFormat::F32) return s;
        std::vector<float> v(static_cast<std::size_t>(out.elementCount()));
        LLAVA_TRY(m_inner->download(out, v.data(), v.size() * 4));
        double norm = 0;
        for (float x : v) norm += double(x) * x;
        v[v.size() / 2] += static_cast<float>(0.1 * std::sqrt(norm) + 1e-3);
        return m_inner->upload(out, v.data(), v.size() * 4);
    }
    std::unique_ptr<Backend> m_inner;
    std::string m_wrongOp;
};

BackendRegistry registryWithFakeCuda(const std::string& wrongOp) {
    BackendRegistry registry;
    registry.registerFactory(BackendKind::Cuda, [wrongOp](const BackendRequest&) -> Result<std::unique_ptr<Backend>> {
        return std::unique_ptr<Backend>(std::make_unique<PerturbedBackend>(wrongOp));
    });
    return registry;
}

}  // namespace

class TestSelfCheck : public QObject {
    Q_OBJECT
private slots:
    void honestBackendPasses() {
        PerturbedBackend honest("");
        auto reference = createCpuReferenceBackend(2);
        const SelfCheckResult r = runBackendSelfCheck(honest, *reference);
        qInfo("%s", r.report.c_str());
        QVERIFY2(r.passed, r.firstFailure.c_str());
        QVERIFY(r.checks >= 25);
        QVERIFY(r.report.find("FAIL") == std::string::npos);
        QVERIFY(r.report.find("passed") != std::string::npos);
    }

    void wrongOpIsNamed_data() {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QString>("named");  // how the first failing check starts
        QTest::newRow("matmul") << "matmul" << "matmul F32 m1";
        QTest::newRow("rmsNorm") << "rmsNorm" << "rmsNorm";
        QTest::newRow("layerNorm") << "layerNorm" << "layerNorm";
        QTest::newRow("rope") << "rope" << "rope";
        QTest::newRow("attention") << "attention" << "attention causal 19";
        QTest::newRow("quickGelu") << "quickGelu" << "quickGelu";
        QTest::newRow("gelu") << "gelu" << "gelu";
        QTest::newRow("siluMul") << "siluMul" << "siluMul";
        QTest::newRow("add") << "add" << "add";
        QTest::newRow("embed") << "embed" << "embed F16";
        QTest::newRow("patchEmbed") << "patchEmbed" << "patchEmbed";
        QTest::newRow("copy") << "copy" << "copy";
        QTest::newRow("argmax") << "argmax" << "argmax";
        QTest::newRow("embedAt") << "embedAt" << "embedAt";
        QTest::newRow("ropeAt") << "ropeAt" << "ropeAt";
        QTest::newRow("ropeWriteRowAt") << "ropeWriteRowAt" << "ropeWriteRowAt";
        QTest::newRow("writeRowAt") << "writeRowAt" << "writeRowAt";
        QTest::newRow("attentionAt") << "attentionAt" << "attentionAt";
    }
    void wrongOpIsNamed() {
        QFETCH(QString, op);
        QFETCH(QString, named);
        PerturbedBackend wrong(op.toStdString());
        auto reference = createCpuReferenceBackend(2);
        const SelfCheckResult r = runBackendSelfCheck(wrong, *reference);
        QVERIFY(!r.passed);
        QVERIFY2(r.firstFailure.rfind(named.toStdString(), 0) == 0, r.firstFailure.c_str());
        QVERIFY2(r.report.find("FAIL " + named.toStdString()) != std::string::npos, r.report.c_str());
        QVERIFY(r.report.find("FAILED") != std::string::npos);
    }

    void autoFallsBackToCpuWithTheReason() {
        const BackendRegistry registry = registryWithFakeCuda("gelu");
        auto choice = registry.create(BackendKind::Auto, {});
        QVERIFY2(choice.isOk(), choice.isOk() ? "" : choice.status().toString().c_str());
        QCOMPARE(choice->backend->info().name, std::string("cpu"));
        QVERIFY2(choice->fallbackReason.rfind("CUDA self-check failed: gelu [67, 96]: NMSE", 0) == 0,
                 choice->fallbackReason.c_str());
        QVERIFY(choice->selfCheckReport.find("FAIL gelu") != std::string::npos);

        auto explicitCuda = registry.create(BackendKind::Cuda, {});  // asked for by name: an error, not a silent CPU
        QVERIFY(!explicitCuda.isOk());
        QVERIFY2(explicitCuda.status().message().find("--no-selfcheck") != std::string::npos,
                 explicitCuda.status().message().c_str());

        BackendRequest skip;
        skip.selfCheck = SelfCheck::Skip;  // --no-selfcheck: the (wrong) backend is used unchecked
        auto unchecked = registry.create(BackendKind::Auto, skip);
        QVERIFY(unchecked.isOk());
        QCOMPARE(unchecked->backend->info().name, std::string("cuda"));
        QVERIFY(unchecked->selfCheckReport.empty());
    }

    void autoKeepsAPassingBackend() {
        const BackendRegistry registry = registryWithFakeCuda("");
        auto choice = registry.create(BackendKind::Auto, {});
        QVERIFY(choice.isOk());
        QCOMPARE(choice->backend->info().name, std::string("cuda"));
        QVERIFY(choice->fallbackReason.empty());
        QVERIFY(choice->selfCheckReport.find("passed") != std::string::npos);
    }

    void engineReportCarriesTheFallback() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString model = dir.filePath("demo");
        QVERIFY(writeDemoModel(model.toStdString()).isOk());
        const BackendRegistry registry = registryWithFakeCuda("attentionAt");
        EngineOptions options;
        options.registry = &registry;
        options.contextLength = 128;
        auto engine = Engine::load(model.toStdString(), options);
        QVERIFY2(engine.isOk(), engine.isOk() ? "" : engine.status().toString().c_str());
        const BackendReport report = (*engine)->backendReport();
        QCOMPARE(report.name, std::string("cpu"));
        QVERIFY2(report.fallbackReason.find("CUDA self-check failed: attentionAt") == 0, report.fallbackReason.c_str());
        QVERIFY(report.selfCheckReport.find("FAIL attentionAt") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSelfCheck)
#include "tst_selfcheck.moc"
