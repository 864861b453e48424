#pragma once

#include <QAbstractTableModel>
#include <QList>
#include <QString>
#include <QStringList>

#include <map>

namespace tunelab {

// The question a user asks when comparing runs: "what did I change?". Rows are the JSON paths of
// the spec fields whose values differ between the runs (model.layers[2].out_features, optimizer.lr,
// ...), columns are the runs. Fields that are equal everywhere are left out.
class SpecDiffModel : public QAbstractTableModel {
    Q_OBJECT

public:
    struct RunSpec {
        qint64 id = 0;
        QString label;
        QString specJson; // the resolved spec
    };

    explicit SpecDiffModel(QObject* parent = nullptr);

    void setRuns(const QList<RunSpec>& runs);
    int differenceCount() const { return static_cast<int>(m_paths.size()); }
    QString pathAt(int row) const { return m_paths.value(row); }

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Every leaf of a spec as path -> text ("optimizer.lr" -> "0.001"). Exposed for tests.
    static std::map<QString, QString> flatten(const QString& specJson);

private:
    QList<RunSpec> m_runs;
    QStringList m_paths;
    QList<std::map<QString, QString>> m_values; // per run
};

} // namespace tunelab
