// The rules of a spec's numbers, and numbers as people type them: what the reader refuses, a field
// refuses too, in the same words.

#include "spec/number_rules.h"
#include "spec/spec.h"

#include <QtTest>

using namespace tunelab;

class TestNumberRules : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesTheNotationsPeopleType_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("integer");
        QTest::addColumn<double>("expected");
        QTest::newRow("exponent") << "1e-4" << false << 1e-4;
        QTest::newRow("capital exponent") << "3E-4" << false << 3e-4;
        QTest::newRow("leading point") << ".001" << false << 0.001;
        QTest::newRow("negative") << "-1" << false << -1.0;
        QTest::newRow("plus sign") << "+2.5" << false << 2.5;
        QTest::newRow("spaces") << "  50 " << false << 50.0;
        QTest::newRow("digit groups") << "1_000" << true << 1000.0;
        QTest::newRow("exponent integer") << "1e3" << true << 1000.0;
        QTest::newRow("billion") << "1000000000" << true << 1e9;
        QTest::newRow("decimal integer") << "32.0" << true << 32.0;
    }
    void parsesTheNotationsPeopleType() {
        QFETCH(QString, text);
        QFETCH(bool, integer);
        QFETCH(double, expected);
        std::string problem;
        const auto number = parseTypedNumber(text.toStdString(), integer, &problem);
        QVERIFY2(number.has_value(), problem.c_str());
        QCOMPARE(number->value, expected);
        if (integer)
            QCOMPARE(number->integer, static_cast<int64_t>(expected));
    }

    void refusesWhatIsNotANumber_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("integer");
        QTest::addColumn<QString>("problem");
        QTest::newRow("empty") << "" << false << "empty";
        QTest::newRow("word") << "abc" << false << "not a number";
        QTest::newRow("trailing text") << "1e-4x" << false << "not a number";
        QTest::newRow("half exponent") << "1e" << false << "not a number";
        QTest::newRow("hex") << "0x10" << false << "not a number";
        QTest::newRow("infinity") << "inf" << false << "not a number";
        QTest::newRow("nan") << "nan" << false << "not a number";
        QTest::newRow("beyond a double") << "1e999" << false << "beyond the range of a number";
        QTest::newRow("fraction for an integer") << "2.5" << true << "not a whole number";
        QTest::newRow("beyond int64") << "9223372036854775808" << true << "beyond the largest integer";
        QTest::newRow("lone underscore") << "1__0" << true << "underscore";
        QTest::newRow("underscore at the end") << "10_" << true << "underscore";
    }
    void refusesWhatIsNotANumber() {
        QFETCH(QString, text);
        QFETCH(bool, integer);
        QFETCH(QString, problem);
        std::string reason;
        QVERIFY(!parseTypedNumber(text.toStdString(), integer, &reason).has_value());
        QVERIFY2(QString::fromStdString(reason).contains(problem), reason.c_str());
    }

    // A field and the reader say the same about the same value.
    void aFieldRefusesWhatTheReaderRefuses_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("specJson");
        QTest::newRow("epochs 0") << "0"
                                  << R"({"training": {"epochs": 0}})";
        QTest::newRow("epochs past a billion") << "1000000001"
                                               << R"({"training": {"epochs": 1000000001}})";
        QTest::newRow("batch size 0") << "0"
                                      << R"({"training": {"batch_size": 0}})";
        QTest::newRow("negative clip") << "-1"
                                       << R"({"training": {"grad_clip_norm": -1}})";
    }
    void aFieldRefusesWhatTheReaderRefuses() {
        QFETCH(QString, text);
        QFETCH(QString, specJson);
        const SpecNumberRules& rules = specNumberRules();
        const NumberRule& rule = specJson.contains("epochs")       ? rules.epochs
                                 : specJson.contains("batch_size") ? rules.batchSize
                                                                   : rules.gradClipNorm;
        const std::string fieldProblem = typedNumberProblem(text.toStdString(), rule);
        QVERIFY(!fieldProblem.empty());
        const auto spec = parseExperimentSpec(specJson.toStdString());
        QVERIFY(!spec.ok());
        // The reader names the key and the same expectation.
        const std::string expected = fieldProblem.substr(0, fieldProblem.find(", got"));
        QVERIFY2(spec.error().find(expected) != std::string::npos, (spec.error() + " / " + expected).c_str());
    }

    void acceptedValuesComeBackExactly() {
        TypedNumber value;
        QCOMPARE(QString::fromStdString(
                     typedNumberProblem("1e-4", NumberRule{{0.0, 10.0, false, true}, false, "x"}, &value)),
                 QString());
        QCOMPARE(value.value, 1e-4);
        QCOMPARE(
            QString::fromStdString(typedNumberProblem("9007199254740993", specNumberRules().seed, &value)),
            QString());
        QCOMPARE(value.integer, int64_t{9007199254740993}); // past 2^53: exact as an integer
        QCOMPARE(QString::fromStdString(typedNumberProblem("-1", specNumberRules().gradClipNorm)),
                 QString("expected a number >= 0 (0 = no clipping), got -1"));
    }
};

QTEST_GUILESS_MAIN(TestNumberRules)
#include "tst_number_rules.moc"
