// The race window's files: results as CSV and PNG, and race files to save and open.

#include "race/race_window.h"

#include "charts/loss_chart_view.h"
#include "common/file_saving.h"
#include "race/race.h"
#include "race/race_view.h"

#include <QFileDialog>
#include <QPixmap>
#include <QWidget>

namespace tunelab {

bool RaceWindow::exportCsv(const QString& fileName, QString* error) const {
    const std::string csv = raceResultsCsv(m_resultsModel->results());
    return saveFileBytes(fileName, QByteArray::fromStdString(csv), error);
}

bool RaceWindow::exportPng(const QString& fileName, QString* error) {
    m_valChart->flush();
    m_trainChart->flush();
    return saveImagePng(fileName, m_resultsArea->grab().toImage(), error);
}

bool RaceWindow::saveRace(const QString& fileName, QString* error) const {
    return saveFileBytes(fileName, QByteArray::fromStdString(raceSpecToJson(raceSpec())), error);
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
