// Hostile JSON at every file reader the engine has: numbers beyond a double's range and deep
// nesting come back as errors that name the place, never as an abort or a crash.
#include "common/json_text.h"
#include "race/race.h"
#include "search/search_space.h"
#include "spec/spec.h"
#include "study/study.h"

#include <QtTest>

#include <functional>
#include <string>

using namespace tunelab;

namespace {

using Reader = std::function<std::string(const std::string&)>; // the error, "" when it parsed

template <typename T> std::string errorOf(const Result<T>& result) {
    return result.ok() ? std::string() : result.error();
}

Reader readerNamed(const QString& name) {
    if (name == "experiment")
        return [](const std::string& text) { return errorOf(parseExperimentSpec(text)); };
    if (name == "study")
        return [](const std::string& text) { return errorOf(parseStudySpec(text)); };
    if (name == "race")
        return [](const std::string& text) { return errorOf(parseRaceSpec(text)); };
    return [](const std::string& text) { return errorOf(parseSearchSpace(text)); };
}

std::string nested(int depth) {
    return std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']');
}

} // namespace

class TestJsonText : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void hostileTextIsAnErrorWithItsPlace_data() {
        QTest::addColumn<QString>("reader");
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("expected");
        const std::string hugeInteger(310, '9');
        for (const char* reader : {"experiment", "study", "race", "space"}) {
            auto row = [&](const char* name, const std::string& text, const char* expected) {
                QTest::newRow((std::string(reader) + ": " + name).c_str())
                    << QString(reader) << QByteArray::fromStdString(text) << QString(expected);
            };
            row("1e999", "{\"name\": 1e999}", "line 1, column 10: invalid JSON: the number 1e999 is beyond");
            row("-1e999", "{\n  \"seed\": -1e999}", "line 2, column 11: invalid JSON: the number -1e999");
            row("1E+400", "{\"parameters\": [1E+400]}", "the number 1E+400 is beyond the range of a double");
            row("310 digits", "{\"x\": " + hugeInteger + "}",
                "invalid JSON: the number 9999999999999999999999999999999999999999... is beyond");
            row("100000 deep", "{\"x\": " + nested(100000) + "}",
                "line 1, column 70: invalid JSON: nested deeper than 64 levels");
            row("syntax", "{\"x\": [1,}", "line 1, column 10: invalid JSON: syntax error");
        }
    }

    void hostileTextIsAnErrorWithItsPlace() {
        QFETCH(QString, reader);
        QFETCH(QByteArray, text);
        QFETCH(QString, expected);
        const std::string error = readerNamed(reader)(text.toStdString());
        QVERIFY2(QString::fromStdString(error).contains(expected), error.c_str());
    }

    void namesCannotHoldControlCharacters_data() {
        QTest::addColumn<QString>("reader");
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("expected");
        const std::string layers = "\"model\": {\"layers\": [{\"type\": \"linear\", \"out_features\": 2}]}";
        QTest::newRow("experiment, escape")
            << "experiment" << QByteArray::fromStdString("{\"name\": \"a\\u001b[2Jb\", " + layers + "}")
            << "name: contains a control character (U+001B) at byte 1";
        QTest::newRow("study, NUL") << "study" << QByteArray("{\"name\": \"a\\u0000b\"}")
                                    << "name: contains a control character (U+0000) at byte 1";
        QTest::newRow("race, C1 CSI") << "race" << QByteArray("{\"name\": \"x\\u009by\"}")
                                      << "name: contains a control character (U+009B) at byte 1";
    }

    void namesCannotHoldControlCharacters() {
        QFETCH(QString, reader);
        QFETCH(QByteArray, text);
        QFETCH(QString, expected);
        const std::string error = readerNamed(reader)(text.toStdString());
        QVERIFY2(QString::fromStdString(error).contains(expected), error.c_str());
    }

    void nestingUpToTheLimitParses() {
        QVERIFY(parseJsonText(nested(kMaxJsonDepth)).ok());
        QVERIFY(!parseJsonText(nested(kMaxJsonDepth + 1)).ok());
        // Brackets inside strings and comments are not nesting.
        const std::string quoted = "{\"x\": \"" + std::string(1000, '[') + "\"} // " + std::string(1000, '{');
        QVERIFY2(parseJsonText(quoted).ok(), parseJsonText(quoted).error().c_str());
    }

    void numbersAtTheEdgeOfTheRangeParse() {
        const auto parsed = parseJsonText("[1.7976931348623157e308, -1.7976931348623157e308, 4.9e-324]");
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        QCOMPARE(parsed.value()[0].get<double>(), 1.7976931348623157e308);
    }
};

QTEST_GUILESS_MAIN(TestJsonText)
#include "tst_json_text.moc"
