// Sampler against hand-computed distributions. Guards: temperature applied before top-k/top-p, top-p
// keeping the smallest prefix reaching the mass, min-p relative to the top probability, repetition
// penalty sign rule, greedy ties -> lowest id, seeded determinism.
#include <QtTest>

#include <cmath>

#include "llava/sampler.h"

using namespace llava;

class TestSampler : public QObject {
    Q_OBJECT
private slots:
    void temperatureSoftmax() {
        // logits ln(1), ln(2), ln(3), ln(4) at T = 1 -> p = 0.1, 0.2, 0.3, 0.4
        const std::vector<float> l{0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
        Sampler s({1.0f, 0, 1.0f, 0.0f, 1.0f, 64, 1, 16, {}});
        const auto p = s.distribution(l, {});
        const std::vector<float> expect{0.1f, 0.2f, 0.3f, 0.4f};
        for (int i = 0; i < 4; ++i) QVERIFY(std::fabs(p[std::size_t(i)] - expect[std::size_t(i)]) < 1e-6);
        // T = 0.5 squares the odds: 1,4,9,16 / 30
        Sampler half({0.5f, 0, 1.0f, 0.0f, 1.0f, 64, 1, 16, {}});
        QVERIFY(std::fabs(half.distribution(l, {})[3] - 16.0f / 30.0f) < 1e-6);
    }
    void topKTopPMinP() {
        const std::vector<float> l{0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
        Sampler k2({1.0f, 2, 1.0f, 0.0f, 1.0f, 64, 1, 16, {}});  // keep 0.3, 0.4 -> 3/7, 4/7
        auto p = k2.distribution(l, {});
        QCOMPARE(p[0], 0.0f);
        QVERIFY(std::fabs(p[3] - 4.0f / 7.0f) < 1e-6);
        Sampler topP({1.0f, 0, 0.65f, 0.0f, 1.0f, 64, 1, 16, {}});  // 0.4 + 0.3 = 0.7 >= 0.65 -> {3, 2}
        p = topP.distribution(l, {});
        QCOMPARE(p[1], 0.0f);
        QVERIFY(std::fabs(p[2] - 3.0f / 7.0f) < 1e-6);
        Sampler minP({1.0f, 0, 1.0f, 0.45f, 1.0f, 64, 1, 16, {}});  // threshold 0.18: keeps 0.4, 0.3, 0.2
        p = minP.distribution(l, {});
        QCOMPARE(p[0], 0.0f);
        QVERIFY(std::fabs(p[1] - 2.0f / 9.0f) < 1e-6);
    }
    void repetitionPenaltyAndGreedy() {
        const std::vector<float> l{2.0f, -1.0f, 1.5f, 1.5f};
        const std::vector<std::int32_t> seen{0};
        Sampler greedy({0.0f, 0, 1.0f, 0.0f, 2.0f, 64, 1, 16, {}});  // 2.0 -> 1.0; ties 1.5/1.5 -> id 2
        QCOMPARE(greedy.sample(l, seen), 2);
        Sampler plain({0.0f, 0, 1.0f, 0.0f, 1.0f, 64, 1, 16, {}});
        QCOMPARE(plain.sample(l, seen), 0);
        Sampler neg({1.0f, 0, 1.0f, 0.0f, 2.0f, 64, 1, 16, {}});  // negative logit multiplied: -1 -> -2
        const std::vector<std::int32_t> seenNeg{1};
        const auto p = neg.distribution(l, seenNeg);
        double z = std::exp(2.0) + std::exp(-2.0) + 2 * std::exp(1.5);
        QVERIFY(std::fabs(p[1] - std::exp(-2.0) / z) < 1e-6);
    }
    void seededDeterminism() {
        const std::vector<float> l{0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
        Sampler a({1.0f, 0, 1.0f, 0.0f, 1.0f, 64, 42, 16, {}}), b({1.0f, 0, 1.0f, 0.0f, 1.0f, 64, 42, 16, {}});
        std::vector<int> counts(5);
        for (int i = 0; i < 2000; ++i) {
            const auto x = a.sample(l, {});
            QCOMPARE(x, b.sample(l, {}));
            ++counts[std::size_t(x)];
        }
        QVERIFY(counts[4] > counts[0]);  // p4/p0 = e^0.4 ~ 1.49
    }
};

QTEST_GUILESS_MAIN(TestSampler)
#include "tst_sampler.moc"
