// How a run store is named and spoken to: file paths, sqlite:/// and postgresql:// locations, a URL
// shown without its password, and SQLite's `?` parameters written as PostgreSQL's `$N`.

#include "store/postgres_connection.h"
#include "store/store_location.h"

#include <QtTest/QtTest>

using namespace tunelab;

class TestStoreLocations : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void locations_data();
    void locations();
    void redactedUrls_data();
    void redactedUrls();
    void parameters_data();
    void parameters();
};

void TestStoreLocations::locations_data() {
    QTest::addColumn<QString>("location");
    QTest::addColumn<bool>("server");
    QTest::addColumn<QString>("file");
    QTest::newRow("a path") << "runs.sqlite" << false << "runs.sqlite";
    QTest::newRow("an absolute path") << "/data/runs.sqlite" << false << "/data/runs.sqlite";
    QTest::newRow("sqlite, relative") << "sqlite:///runs.sqlite" << false << "runs.sqlite";
    QTest::newRow("sqlite, absolute") << "sqlite:////data/runs.sqlite" << false << "/data/runs.sqlite";
    QTest::newRow("postgresql") << "postgresql://me@db:5432/tunelab" << true
                                << "postgresql://me@db:5432/tunelab";
    QTest::newRow("postgres") << "postgres://db/tunelab" << true << "postgres://db/tunelab";
    QTest::newRow("a folder named like a scheme")
        << "postgresql/runs.sqlite" << false << "postgresql/runs.sqlite";
}

void TestStoreLocations::locations() {
    QFETCH(QString, location);
    QFETCH(bool, server);
    QFETCH(QString, file);
    QCOMPARE(isServerLocation(location.toStdString()), server);
    if (!server)
        QCOMPARE(QString::fromStdString(sqliteFilePath(location.toStdString())), file);
}

void TestStoreLocations::redactedUrls_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("shown");
    QTest::newRow("password") << "postgresql://me:secret@db:5432/tunelab"
                              << "postgresql://me:***@db:5432/tunelab";
    QTest::newRow("no password") << "postgresql://me@db/tunelab"
                                 << "postgresql://me@db/tunelab";
    QTest::newRow("no user") << "postgresql://db:5432/tunelab"
                             << "postgresql://db:5432/tunelab";
    QTest::newRow("an @ after the host") << "postgresql://db/tunelab?application_name=a@b"
                                         << "postgresql://db/tunelab?application_name=a@b";
    QTest::newRow("a file") << "/data/me:secret@runs.sqlite"
                            << "/data/me:secret@runs.sqlite";
}

void TestStoreLocations::redactedUrls() {
    QFETCH(QString, url);
    QFETCH(QString, shown);
    QCOMPARE(QString::fromStdString(displayedLocation(url.toStdString())), shown);
}

void TestStoreLocations::parameters_data() {
    QTest::addColumn<QString>("sqlite");
    QTest::addColumn<QString>("postgres");
    QTest::newRow("in order") << "UPDATE runs SET a = ?, b = ? WHERE id = ?"
                              << "UPDATE runs SET a = $1, b = $2 WHERE id = $3";
    QTest::newRow("numbered") << "SELECT id FROM trials WHERE study_id = ?1 AND number > ?2 OR study_id = ?1"
                              << "SELECT id FROM trials WHERE study_id = $1 AND number > $2 OR study_id = $1";
    QTest::newRow("quoted text untouched") << "SELECT '?', \"a?b\", 'it''s ?' FROM t WHERE x = ?"
                                           << "SELECT '?', \"a?b\", 'it''s ?' FROM t WHERE x = $1";
    QTest::newRow("none") << "SELECT 1"
                          << "SELECT 1";
}

void TestStoreLocations::parameters() {
    QFETCH(QString, sqlite);
    QFETCH(QString, postgres);
    QCOMPARE(QString::fromStdString(sql::postgresParameters(sqlite.toStdString())), postgres);
}

QTEST_GUILESS_MAIN(TestStoreLocations)
#include "tst_store_locations.moc"
