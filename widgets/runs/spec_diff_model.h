#pragma once

#include <QAbstractTableModel>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <map>

namespace tunelab {

// The question a user asks when comparing runs: "what did I change, and what did it do?". The
// first rows are the runs' results (best and final validation loss, accuracy or MAE, duration:
// whatever the runs carry), then one row per spec field whose value differs between the runs
// (optimizer.lr, ...); columns are the runs. Fields equal everywhere are left out. A layer's field
// reads "layer 3 · out_features", and each run's value names that run's layer type ("64 (linear)"),
// so a network that gained or lost a layer reads as such.
class SpecDiffModel : public QAbstractTableModel {
    Q_OBJECT

public:
    struct RunSpec {
        qint64 id = 0;
        QString label;
        QString specJson;                            // the resolved spec
        QList<QPair<QString, QString>> metrics = {}; // name -> shown value, in order
    };
    enum Role { IsMetricRole = Qt::UserRole }; // bool: a result row, not a setting

    explicit SpecDiffModel(QObject* parent = nullptr);

    void setRuns(const QList<RunSpec>& runs);
    int metricCount() const { return static_cast<int>(m_metricNames.size()); }
    int differenceCount() const { return static_cast<int>(m_paths.size()); }
    QString pathAt(int difference) const { return m_paths.value(difference); } // the n-th differing field
    // "layer 3 · out_features" for model.layers[2].out_features; other paths as they are.
    static QString settingLabel(const QString& path);

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Every leaf of a spec as path -> text ("optimizer.lr" -> "0.001"). Exposed for tests.
    static std::map<QString, QString> flatten(const QString& specJson);

private:
    QString settingValue(int run, const QString& path) const;

    QList<RunSpec> m_runs;
    QStringList m_metricNames;
    QStringList m_paths;
    QList<std::map<QString, QString>> m_values; // per run
};

} // namespace tunelab
