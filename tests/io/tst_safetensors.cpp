// safetensors reader, writer and shard index on hand-built inputs: header JSON written literally
// here (independent of our writer), data bytes with known values, escapes, zero-length tensors,
// metadata, move semantics of the mapping, and the cross-shard rules.
#include <QtTest>

#include "iotestutil.h"
#include "llava/checkpointwriter.h"
#include "llava/safetensors.h"

using namespace llava;

class TestSafetensors : public QObject {
    Q_OBJECT
private slots:
    void readsHandWrittenFile() {
        // "b" before "a" in the data region; a name with an escaped quote and a \u00e9; an empty
        // tensor; trailing spaces (writers pad the header to 8 bytes).
        const std::string header =
            R"({"__metadata__":{"format":"pt"},)"
            R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
            R"("b":{"dtype":"I16","shape":[2,2],"data_offsets":[0,8]},)"
            "\"q\\\"\\u00e9\":{\"dtype\":\"BF16\",\"shape\":[3,0],\"data_offsets\":[16,16]}}   ";
        QTemporaryDir dir;
        QString path = dir.filePath("x.safetensors");
        iotest::writeFile(path, iotest::rawSafetensors(header, 16));
        auto r = SafetensorsFile::open(path.toStdString());
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        SafetensorsFile file = std::move(r).value();
        QCOMPARE(file.tensors().size(), std::size_t(3));
        const TensorView* a = file.find("a");
        QVERIFY(a);
        QCOMPARE(a->dtype, DType::F32);
        QCOMPARE(a->shape, (Shape{2}));
        QCOMPARE(a->byteSize, std::size_t(8));
        QCOMPARE(std::to_integer<int>(a->data[0]), 8);  // data byte i holds i
        const TensorView* b = file.find("b");
        QVERIFY(b);
        QCOMPARE(b->shape, (Shape{2, 2}));
        QCOMPARE(std::to_integer<int>(b->data[7]), 7);
        const TensorView* q = file.find("q\"\xc3\xa9");
        QVERIFY(q);
        QCOMPARE(q->byteSize, std::size_t(0));
        QCOMPARE(q->elementCount(), std::int64_t(0));
        QCOMPARE(file.metadata().size(), std::size_t(1));
        QCOMPARE(file.metadata()[0].second, std::string("pt"));

        // The mapping moves with the object; views stay valid.
        SafetensorsFile moved = std::move(file);
        QCOMPARE(moved.find("a")->data, a->data);
        QCOMPARE(std::to_integer<int>(moved.find("a")->data[7]), 15);
    }

    void emptyHeaderObjectIsAValidFile() {
        auto r = parseSafetensorsBytes(iotest::rawSafetensors("{}", 0), "empty");
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QVERIFY(r->tensors.empty());
        QCOMPARE(r->dataOffset, std::uint64_t(10));
    }

    void writerLayout() {
        std::vector<std::byte> f32(12, std::byte{0x11}), empty;
        std::vector<TensorRecord> records = {{"w", DType::F32, {3}, f32}, {"z", DType::F16, {0, 4}, empty}};
        auto bytes = serializeSafetensors(records, {{"k", "v"}});
        QVERIFY2(bytes.isOk(), bytes.status().toString().c_str());
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | std::to_integer<std::uint64_t>((*bytes)[std::size_t(i)]);
        QCOMPARE(n % 8, std::uint64_t(0));        // data region 8-byte aligned
        QCOMPARE(bytes->size(), std::size_t(8 + n + 12));
        auto header = parseSafetensorsBytes(*bytes, "written");
        QVERIFY2(header.isOk(), header.status().toString().c_str());
        QCOMPARE(header->tensors.size(), std::size_t(2));
        QCOMPARE(header->metadata.size(), std::size_t(1));

        std::vector<std::byte> wrong(5);
        auto bad = serializeSafetensors({{"w", DType::F32, {3}, wrong}});
        QVERIFY(!bad.isOk());
        QCOMPARE(bad.status().code(), ErrorCode::InvalidArgument);
        auto dup = serializeSafetensors({{"w", DType::F32, {3}, f32}, {"w", DType::F32, {3}, f32}});
        QVERIFY(!dup.isOk());
    }

    void shardIndex() {
        auto r = parseShardIndex(R"({"metadata":{"total_size":8},"weight_map":{"a":"s1.safetensors","b":"s2.safetensors","c":"s1.safetensors"}})",
                                 "index");
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QCOMPARE(r->weightMap.size(), std::size_t(3));
        QCOMPARE(r->shardFiles, (std::vector<std::string>{"s1.safetensors", "s2.safetensors"}));
    }

    void shardSetRules() {
        std::vector<std::byte> four(4, std::byte{1});
        QTemporaryDir dir;
        auto folder = [&](const QString& sub) {
            QDir().mkpath(dir.filePath(sub));
            return dir.filePath(sub).toStdString();
        };
        // Good: two shards, index consistent.
        std::string good = folder("good");
        QVERIFY(writeSafetensors(good + "/s1.safetensors", {{"a", DType::F32, {1}, four}}).isOk());
        QVERIFY(writeSafetensors(good + "/s2.safetensors", {{"b", DType::F32, {1}, four}}).isOk());
        QVERIFY(writeShardIndex(good + "/model.safetensors.index.json", {{"a", "s1.safetensors"}, {"b", "s2.safetensors"}}, 8).isOk());
        auto ok = ShardSet::open(good);
        QVERIFY2(ok.isOk(), ok.status().toString().c_str());
        QCOMPARE(ok->allTensors().size(), std::size_t(2));
        QVERIFY(ok->find("b"));
        QCOMPARE(ok->totalTensorBytes(), std::uint64_t(8));

        // The same tensor stored in two shards.
        std::string twice = folder("twice");
        QVERIFY(writeSafetensors(twice + "/s1.safetensors", {{"a", DType::F32, {1}, four}}).isOk());
        QVERIFY(writeSafetensors(twice + "/s2.safetensors", {{"a", DType::F32, {1}, four}, {"b", DType::F32, {1}, four}}).isOk());
        QVERIFY(writeShardIndex(twice + "/model.safetensors.index.json", {{"a", "s1.safetensors"}, {"b", "s2.safetensors"}}, 8).isOk());
        auto t = ShardSet::open(twice);
        QVERIFY(!t.isOk());
        QVERIFY2(t.status().message().find("\"a\" is stored in two shards (s1.safetensors and s2.safetensors)") != std::string::npos,
                 t.status().message().c_str());

        // A shard named by the index is missing.
        std::string missing = folder("missing");
        QVERIFY(writeSafetensors(missing + "/s1.safetensors", {{"a", DType::F32, {1}, four}}).isOk());
        QVERIFY(writeShardIndex(missing + "/model.safetensors.index.json", {{"a", "s1.safetensors"}, {"b", "s9.safetensors"}}, 8).isOk());
        auto m = ShardSet::open(missing);
        QVERIFY(!m.isOk());
        QCOMPARE(m.status().code(), ErrorCode::NotFound);
        QVERIFY2(m.status().message().find("s9.safetensors") != std::string::npos, m.status().message().c_str());

        // Single model.safetensors without index; and a folder with neither.
        std::string single = folder("single");
        QVERIFY(writeSafetensors(single + "/model.safetensors", {{"a", DType::F32, {1}, four}}).isOk());
        QVERIFY(ShardSet::open(single).isOk());
        auto none = ShardSet::open(folder("none"));
        QVERIFY(!none.isOk());
        QCOMPARE(none.status().code(), ErrorCode::NotFound);
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
