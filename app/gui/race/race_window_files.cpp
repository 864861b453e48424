// The race window's files: results as CSV and PNG, and race files to save and open.

#include "race/race_window.h"

#include "charts/loss_chart_view.h"
#include "race/race.h"
#include "race/race_view.h"

#include <QFileDialog>
#include <QPixmap>
#include <QSaveFile>
#include <QWidget>

namespace tunelab {

namespace {

bool writeFile(const QString& fileName, const QByteArray& bytes, QString* error) {
    QSaveFile file(fileName);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error)
            *error = QObject::tr("Cannot write %1: %2").arg(fileName, file.errorString());
        return false;
    }
    return true;
}

} // namespace

bool RaceWindow::exportCsv(const QString& fileName, QString* error) const {
    const std::string csv = raceResultsCsv(m_resultsModel->results());
    return writeFile(fileName, QByteArray::fromStdString(csv), error);
}

bool RaceWindow::exportPng(const QString& fileName, QString* error) {
    m_valChart->flush();
    m_trainChart->flush();
    const QPixmap image = m_resultsArea->grab();
    if (image.isNull() || !image.save(fileName, "PNG")) {
        if (error)
            *error = tr("Cannot write %1").arg(fileName);
        return false;
    }
    return true;
}

bool RaceWindow::saveRace(const QString& fileName, QString* error) const {
    return writeFile(fileName, QByteArray::fromStdString(raceSpecToJson(raceSpec())), error);
}

bool RaceWindow::openRace(const QString& fileName, QString* error) {
    auto spec = loadRaceSpec(fileName.toStdString());
    if (!spec) {
        if (error)
            *error = QString::fromStdString(spec.error());
        return false;
    }
    return applyRaceSpec(spec.value(), error);
}

void RaceWindow::exportCsvWithDialog() {
    const QString fileName = QFileDialog::getSaveFileName(
        this, tr("Export race results"), QStringLiteral("race.csv"), tr("CSV files (*.csv)"));
    QString error;
    if (!fileName.isEmpty() && !exportCsv(fileName, &error))
        report(tr("Export CSV"), error);
}

void RaceWindow::exportPngWithDialog() {
    const QString fileName = QFileDialog::getSaveFileName(
        this, tr("Export race image"), QStringLiteral("race.png"), tr("PNG images (*.png)"));
    QString error;
    if (!fileName.isEmpty() && !exportPng(fileName, &error))
        report(tr("Export PNG"), error);
}

void RaceWindow::saveRaceWithDialog() {
    const QString fileName = QFileDialog::getSaveFileName(this, tr("Save race"), QStringLiteral("race.json"),
                                                          tr("Race files (*.json)"));
    QString error;
    if (!fileName.isEmpty() && !saveRace(fileName, &error))
        report(tr("Save race"), error);
}

void RaceWindow::openRaceWithDialog() {
    const QString fileName =
        QFileDialog::getOpenFileName(this, tr("Open race"), {}, tr("Race files (*.json)"));
    QString error;
    if (!fileName.isEmpty() && !openRace(fileName, &error))
        report(tr("Open race"), error);
}

} // namespace tunelab
