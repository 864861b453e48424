// tunelab-cli compress: a plan trains its source, makes every kind of variant, and prints one JSON
// object with what it measured; a plan that cannot work is refused before anything is stored.

#include "cli_test_support.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtTest>

#include <cmath>

using tunelab::test::CliResult;
using tunelab::test::runCliFor;
using tunelab::test::writeFile;

namespace {

// Digits through a 64-128-128-10 MLP for a few epochs, and a plan of every kind of variant on it.
QByteArray digitsPlan(const QString& variants) {
    const QString data = QStringLiteral(TUNELAB_SHARED_DATA_DIR) + "/digits.csv";
    QString text =
        "{'name': 'tiny', 'latency': {'threads': 1, 'repeats': 20},"
        " 'source': {'experiment': {'name': 'digits', 'seed': 4, 'device': 'cpu',"
        "  'data': {'kind': 'csv', 'path': '" +
        data +
        "', 'target': 'digit', 'validation_fraction': 0.2, 'standardize': true},"
        "  'model': {'layers': [{'type': 'linear', 'out_features': 128}, {'type': 'relu'},"
        "   {'type': 'linear', 'out_features': 128}, {'type': 'relu'}, {'type': 'linear', 'out_features': "
        "10}]},"
        "  'optimizer': {'type': 'adam', 'lr': 0.002}, 'training': {'epochs': 6, 'batch_size': 64}}},"
        " 'variants': " +
        variants + "}";
    return text.replace('\'', '"').toUtf8();
}

QJsonObject variantNamed(const QJsonObject& report, const QString& name) {
    for (const auto& item : report["variants"].toArray())
        if (item.toObject()["name"].toString() == name)
            return item.toObject();
    return {};
}

// The runs `runs list` shows: its lines that start with a run id.
int runCount(const QString& db) {
    if (!QFile::exists(db))
        return 0;
    const CliResult runs = runCliFor({"runs", "--db", db, "list"}, 30000);
    int count = 0;
    for (const QString& line : runs.out.split('\n')) {
        bool number = false;
        line.trimmed().section(' ', 0, 0).toLongLong(&number);
        count += number ? 1 : 0;
    }
    return count;
}

} // namespace

class TestCompressCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void aPlanMakesAndMeasuresEveryKindOfVariant() {
        QTemporaryDir folder;
        const QString plan = writeFile(
            folder, "plan.json",
            digitsPlan("[{'name': 'p80', 'kind': 'prune', 'sparsity': 0.8, 'epochs': 2, 'lr': 0.0005},"
                       " {'name': 's50', 'kind': 'structured', 'fraction': 0.5, 'epochs': 2, 'lr': 0.0005},"
                       // Every layer int8: which layers int8 keeps otherwise depends on timings, which a
                       // loaded machine changes, and the size check below would with them.
                       " {'name': 'q', 'kind': 'int8', 'all_int8': true},"
                       " {'name': 'kd', 'kind': 'distill', 'epochs': 3, 'student': {'layers': ["
                       "   {'type': 'linear', 'out_features': 16}, {'type': 'relu'}, {'type': 'linear', "
                       "'out_features': 10}]}}]"));
        const QString db = folder.filePath("runs.db");
        const CliResult result =
            runCliFor({"compress", plan, "--db", db, "--json", "--out", folder.filePath("out")}, 240000);
        QVERIFY2(result.exitCode == 0, qPrintable(result.err.right(3000)));
        const QJsonObject report = result.lastJsonLine();
        const QJsonObject source = report["source"].toObject();
        QVERIFY(source["val_accuracy"].toDouble() > 0.8);
        QCOMPARE(source["speedup"].toDouble(), 1.0);
        QVERIFY(source["verified"].toBool());
        QCOMPARE(report["variants"].toArray().size(), 5); // kd alone too

        const QJsonObject pruned = variantNamed(report, "p80");
        QCOMPARE(pruned["status"].toString(), QString("completed"));
        QCOMPARE(pruned["parameters"].toInt(), source["parameters"].toInt());
        QVERIFY(pruned["nonzero_parameters"].toInt() < source["parameters"].toInt() / 4);
        QVERIFY(pruned["run_id"].toInt() > source["run_id"].toInt());

        const QJsonObject structured = variantNamed(report, "s50");
        QCOMPARE(structured["status"].toString(), QString("completed"));
        QVERIFY(structured["parameters"].toInt() < source["parameters"].toInt() / 2);
        QVERIFY(structured["size_bytes"].toInt() < source["size_bytes"].toInt());
        QVERIFY(QFile::exists(structured["file"].toString()));

        const QJsonObject quantized = variantNamed(report, "q");
        QCOMPARE(quantized["status"].toString(), QString("completed"));
        QCOMPARE(quantized["run_id"].toInt(), source["run_id"].toInt());
        QVERIFY(quantized["size_bytes"].toInt() * 3 < source["size_bytes"].toInt());
        QVERIFY(std::abs(quantized["val_accuracy"].toDouble() - source["val_accuracy"].toDouble()) < 0.03);
        QVERIFY(quantized["verified"].toBool());

        const QJsonObject student = variantNamed(report, "kd");
        const QJsonObject alone = variantNamed(report, "kd alone");
        QCOMPARE(student["status"].toString(), QString("completed"));
        QCOMPARE(alone["kind"].toString(), QString("alone"));
        QCOMPARE(student["parameters"].toInt(), alone["parameters"].toInt());
        for (const auto& item : report["variants"].toArray()) {
            const QJsonObject variant = item.toObject();
            QVERIFY2(variant["latency_ms"].toDouble() > 0.0, qPrintable(variant["name"].toString()));
            QVERIFY(variant.contains("pareto_size"));
        }
        QVERIFY(source["pareto_size"].toBool() || student["pareto_size"].toBool() ||
                quantized["pareto_size"].toBool());
        // The source, the two fine-tuned variants and the two students are stored runs.
        QCOMPARE(runCount(db), 5);

        // Without --json: a table.
        const QString again = writeFile(folder, "again.json",
                                        digitsPlan("[{'name': 'q', 'kind': 'int8', 'per_channel': false}]"));
        const CliResult table = runCliFor({"compress", again, "--db", db}, 120000);
        QCOMPARE(table.exitCode, 0);
        QVERIFY2(table.out.contains("batch-1 ms") && table.out.contains("int8"), qPrintable(table.out));
    }

    void aPlanThatCannotWorkStoresNothing_data() {
        QTest::addColumn<QString>("variants");
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("message");
        QTest::newRow("missing run") << "[{'name': 'q', 'kind': 'int8'}]"
                                     << "{'run': 77}"
                                     << "source.run: there is no run 77";
        QTest::newRow("prune a relu") << "[{'name': 'p', 'kind': 'prune', 'sparsity': 0.5, 'layers': [1]}]"
                                      << ""
                                      << "variants[0]: layers[0]: model.layers[1] is relu";
        QTest::newRow("student outputs") << "[{'name': 'k', 'kind': 'distill', 'student': {'layers': ["
                                            "{'type': 'linear', 'out_features': 7}]}}]"
                                         << ""
                                         << "variants[0] (k): student:";
        QTest::newRow("sparsity") << "[{'name': 'p', 'kind': 'prune', 'sparsity': 1.5}]"
                                  << ""
                                  << "variants[0]: sparsity";
    }

    void aPlanThatCannotWorkStoresNothing() {
        QFETCH(QString, variants);
        QFETCH(QString, source);
        QFETCH(QString, message);
        QTemporaryDir folder;
        QByteArray text = digitsPlan(variants);
        if (!source.isEmpty()) {
            const QJsonObject parsed = QJsonDocument::fromJson(text).object();
            QJsonObject changed = parsed;
            changed["source"] = QJsonDocument::fromJson(QString(source).replace('\'', '"').toUtf8()).object();
            text = QJsonDocument(changed).toJson();
        }
        const QString plan = writeFile(folder, "plan.json", text);
        const QString db = folder.filePath("runs.db");
        const CliResult result = runCliFor({"compress", plan, "--db", db, "--json"}, 60000);
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains(message), qPrintable(result.err));
        QCOMPARE(runCount(db), 0);
    }
};

QTEST_GUILESS_MAIN(TestCompressCli)
#include "tst_compress_cli.moc"
