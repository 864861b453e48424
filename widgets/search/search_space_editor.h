#pragma once

#include <QWidget>

#include <functional>
#include <utility>
#include <vector>

class QLabel;
class QPushButton;
class QTableView;

namespace tunelab {

class SearchSpaceModel;

// Gives `field` a context menu that starts with "Search over <path>…" (checked when `isSearched`
// says the path is already in the space), followed by the field's usual edit actions (cut, copy,
// paste for a spin box or line edit). `path` is asked when the menu opens, so a field whose path
// depends on the selected layer stays right. Choosing the entry calls `request` with the path and
// the field's current value as JSON (fieldValueJson).
void installSearchMenu(QWidget* field, std::function<QString()> path,
                       std::function<void(const QString& path, const QString& valueJson)> request,
                       std::function<bool(const QString& path)> isSearched = {});
// Installs the "Search over…" menu on each form field whose path is fixed, naming each field after
// its path so tests and fieldPathsWithSearchMenu find it.
void installFixedPathSearchMenus(
    const std::vector<std::pair<QWidget*, const char*>>& fieldsByPath,
    const std::function<void(const QString& path, const QString& valueJson)>& request,
    const std::function<bool(const QString& path)>& isSearched);
// The paths of `form`'s fields that offer "Search over…": the object names of its fields with a
// custom context menu.
QStringList fieldPathsWithSearchMenu(const QWidget* form);
// A form field's value as JSON: 64, 0.001 (always with a decimal point for a QDoubleSpinBox),
// true, "adam" (a combo box's string data, else its text).
QString fieldValueJson(const QWidget* field);

// Edits a study's search space as a table: one row per parameter with its kind, range, scale,
// values and condition, and a status column that names what is wrong with the row. Rows come from
// "Search over…" in the experiment forms (addParameter) or the Add button; Open and Save read and
// write the JSON of docs/search-space.md. A summary line gives the parameter count, conditional
// parameters and the grid size.
class SearchSpaceEditor : public QWidget {
    Q_OBJECT

public:
    explicit SearchSpaceEditor(QWidget* parent = nullptr);

    SearchSpaceModel* model() const { return m_model; }
    QTableView* view() const { return m_view; }
    QString summaryText() const;

    void setBaseExperiment(const QString& specJson);
    void setSpaceJson(const QString& json);
    QString spaceJson() const;

    // Reads or writes a space file; false with a message box-free error in `error`.
    bool openFile(const QString& fileName, QString* error = nullptr);
    bool saveFile(const QString& fileName, QString* error = nullptr) const;

public Q_SLOTS:
    // Adds (or selects, when it is already searched) the parameter for `path`.
    void addParameter(const QString& path, const QString& currentValueJson = QString());
    void removeSelected();
    void openWithDialog();
    void saveWithDialog();

Q_SIGNALS:
    void spaceChanged();
    // The paths now in the space, for the forms' check marks.
    void searchedPathsChanged(const QStringList& paths);

private:
    void updateSummary();

    SearchSpaceModel* m_model = nullptr;
    QTableView* m_view = nullptr;
    QPushButton* m_remove = nullptr;
    QLabel* m_summary = nullptr;
};

} // namespace tunelab
