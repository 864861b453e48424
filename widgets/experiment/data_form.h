#pragma once

#include "common/result.h"
#include "data/dataset.h"
#include "spec/spec.h"

#include <QWidget>

#include <future>
#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QTimer;

namespace tunelab {

class DataPreview;
class NumberField;

// Chooses the data: a built-in generator with its parameters, or a CSV file / MNIST / CIFAR-10
// folder; the validation split and standardization. After each edit (debounced) it loads the
// data with the engine's loader, off the GUI thread (a large file takes seconds), shows rows,
// features, classes and the split, and a preview: a scatter of the first two features for tabular
// data, a few thumbnails for images.
class DataForm : public QWidget {
    Q_OBJECT

public:
    explicit DataForm(QWidget* parent = nullptr);
    ~DataForm() override;

    // Shows and loads the spec's data before it returns; emits dataLoaded.
    void setSpec(const ExperimentSpec& spec);
    // Shows the spec at once: built-in data is made before it returns, data read from files loads off
    // the GUI thread (a large file takes seconds), and until it has loaded the form has no data
    // (hasData() is false, isLoading() true); emits dataLoaded when it has.
    void openSpec(const ExperimentSpec& spec);
    void applyTo(ExperimentSpec& spec) const; // writes data settings into spec.data

    // Whether the data last loaded loaded (while an edit's load is under way: the data before it;
    // while the file of an experiment opened by openSpec loads: false).
    bool hasData() const { return m_loaded; }
    // Whether the data of the settings shown is loading off the GUI thread (an older load that is
    // still under way, whose result will be dropped, does not count).
    bool isLoading() const { return m_awaitingLoad; }
    // The data as last loaded; empty when it failed to load.
    const Dataset& dataset() const;
    // The same data, shared: a thread that reads it keeps it alive; null when it failed to load.
    std::shared_ptr<const Dataset> sharedDataset() const { return m_dataset; }
    QString errorText() const { return m_error; }
    // Loads now, on the GUI thread, instead of after the debounce delay; a load under way is dropped.
    void reload();

    // The spec path each field edits ("data.validation_fraction"), which is also its objectName.
    QStringList fieldPaths() const;

public Q_SLOTS:
    // Paths already in the search space; their "Search over…" entries show a check mark.
    void setSearchedPaths(const QStringList& paths);

    // "Label: reason" for each shown field whose typed value is refused; empty when all are valid.
    QStringList problems() const;

Q_SIGNALS:
    void edited();
    // "Search over <path>…" was chosen in a field's context menu; the value is the field's, as JSON.
    void searchRequested(const QString& path, const QString& currentValueJson);
    // After every load attempt: the data's shape and task on success, or the error.
    void dataLoaded(bool ok);
    // An edit's load has started off the GUI thread.
    void loadStarted();

private:
    void showSpec(const ExperimentSpec& spec);
    static QString loadingText(const DataSpec& data);
    void onEdited();
    // The edit's load, on a thread of its own; only the newest load's result is shown.
    void loadInBackground();
    void showLoaded(const Result<std::shared_ptr<const Dataset>>& loaded, double validationFraction);
    void updateVisibleFields();
    void checkImageSize();
    void browse();
    void installSearchMenus();

    bool m_loading = false;
    QStringList m_searchedPaths;
    bool m_loaded = false;
    uint64_t m_seed = 0;
    std::shared_ptr<const Dataset> m_dataset;
    QString m_error;
    QString m_baseFolder;
    QTimer* m_reloadTimer = nullptr;
    quint64 m_loadRequest = 0;   // the newest load; an older one's result is dropped
    bool m_awaitingLoad = false; // the newest load runs off the GUI thread and has not been shown
    // Loads under way off the GUI thread; a newer load or the form's end cancels the older ones.
    struct LoadJob {
        std::future<void> done;
        std::shared_ptr<LoadCancel> cancel;
    };
    std::vector<LoadJob> m_loadJobs;

    QFormLayout* m_form = nullptr;
    QComboBox* m_kind = nullptr;
    NumberField* m_samples = nullptr;
    NumberField* m_noise = nullptr;
    NumberField* m_classes = nullptr;
    NumberField* m_features = nullptr;
    QWidget* m_pathRow = nullptr;
    QLineEdit* m_path = nullptr;
    QPushButton* m_browse = nullptr;
    QLineEdit* m_target = nullptr;
    QComboBox* m_task = nullptr;
    NumberField* m_limit = nullptr;
    QWidget* m_imageSizeRow = nullptr;
    NumberField* m_imageHeight = nullptr;
    NumberField* m_imageWidth = nullptr;
    std::vector<int64_t> m_imageSize; // the last size with both sides, or empty for the files' size
    QCheckBox* m_grayscale = nullptr;
    NumberField* m_validation = nullptr;
    QCheckBox* m_standardize = nullptr;
    QLabel* m_summary = nullptr;
    DataPreview* m_preview = nullptr;
    DataSpec m_hidden; // fields the form does not edit (scale, input shape, delimiter)
};

} // namespace tunelab
