// Status/Result: errors travel as values with their context (guards against lost error messages).
#include <QtTest>

#include "llava/status.h"
#include "llava/types.h"

using namespace llava;

namespace {
Result<int> parsePositive(int v) {
    if (v <= 0) return makeError(ErrorCode::InvalidArgument, "value " + std::to_string(v) + " is not positive");
    return v;
}
Result<int> doubled(int v) {
    LLAVA_ASSIGN_OR_RETURN(int x, parsePositive(v));
    return 2 * x;
}
}  // namespace

class TestStatus : public QObject {
    Q_OBJECT
private slots:
    void resultCarriesValueOrError() {
        auto good = doubled(21);
        QVERIFY(good.isOk());
        QCOMPARE(good.value(), 42);
        auto bad = doubled(-3);
        QVERIFY(!bad.isOk());
        QCOMPARE(bad.status().code(), ErrorCode::InvalidArgument);
        QCOMPARE(QString::fromStdString(bad.status().toString()),
                 QStringLiteral("InvalidArgument: value -3 is not positive"));
    }
    void contextIsPrefixed() {
        Status s = makeError(ErrorCode::NotFound, "tensor lm_head.weight missing").withContext("shard 2");
        QCOMPARE(QString::fromStdString(s.message()), QStringLiteral("shard 2: tensor lm_head.weight missing"));
        QVERIFY(Status::ok().withContext("x").isOk());
    }
    void dtypeTables() {
        QCOMPARE(dtypeSize(DType::BF16), std::size_t(2));
        QCOMPARE(dtypeSize(DType::I64), std::size_t(8));
        QCOMPARE(QString::fromStdString(shapeToString({4096, 1024})), QStringLiteral("[4096, 1024]"));
        Reference r{};
        QVERIFY(parseReference("transformers", &r));
        QCOMPARE(r, Reference::Transformers);
        QVERIFY(!parseReference("hf2", &r));
    }
};

QTEST_APPLESS_MAIN(TestStatus)
#include "tst_status.moc"
