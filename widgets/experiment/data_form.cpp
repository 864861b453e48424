#include "experiment/data_form.h"

#include "common/number_field.h"
#include "common/wheel_guard.h"
#include "experiment/sample_image.h"

#include "data/dataset_cache.h"
#include "search/search_space_editor.h"
#include "spec/spec_names.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPainter>
#include <QPointer>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace tunelab {

namespace {

constexpr int kPreviewPoints = 2000;
constexpr int kThumbnails = 8;
constexpr int kReloadDelayMs = 250;

QColor classColor(int index) {
    static const QColor colors[] = {QColor(31, 119, 180),  QColor(255, 127, 14),  QColor(44, 160, 44),
                                    QColor(214, 39, 40),   QColor(148, 103, 189), QColor(140, 86, 75),
                                    QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34),
                                    QColor(23, 190, 207)};
    return colors[static_cast<size_t>(std::abs(index)) % std::size(colors)];
}

} // namespace

// Paints a scatter of the first two features (coloured by class, or by target for regression)
// or, for image data, the first few samples as thumbnails.
class DataPreview : public QWidget {
public:
    explicit DataPreview(QWidget* parent = nullptr)
        : QWidget(parent) {
        setMinimumHeight(160);
    }

    void setDataset(const Dataset* data) {
        m_data = data;
        update();
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(this);
        painter.fillRect(rect(), palette().base());
        if (!m_data || m_data->rows == 0)
            return;
        if (m_data->sampleShape.size() == 3)
            paintThumbnails(painter);
        else
            paintScatter(painter);
    }

private:
    void paintScatter(QPainter& painter) {
        const Dataset& data = *m_data;
        const int64_t width = shapeElements(data.sampleShape);
        const int64_t rows = std::min<int64_t>(data.rows, kPreviewPoints);
        auto feature = [&](int64_t row, int64_t column) {
            return width > column ? data.features[static_cast<size_t>(row * width + column)] : 0.0f;
        };
        float minX = feature(0, 0), maxX = minX, minY = feature(0, 1), maxY = minY;
        float minT = data.targets[0], maxT = minT;
        for (int64_t row = 0; row < rows; ++row) {
            minX = std::min(minX, feature(row, 0));
            maxX = std::max(maxX, feature(row, 0));
            minY = std::min(minY, feature(row, 1));
            maxY = std::max(maxY, feature(row, 1));
            minT = std::min(minT, data.targets[static_cast<size_t>(row)]);
            maxT = std::max(maxT, data.targets[static_cast<size_t>(row)]);
        }
        const QRectF area = QRectF(rect()).adjusted(6, 6, -6, -6);
        const float spanX = std::max(maxX - minX, 1e-6f), spanY = std::max(maxY - minY, 1e-6f);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setPen(Qt::NoPen);
        for (int64_t row = 0; row < rows; ++row) {
            const float target = data.targets[static_cast<size_t>(row)];
            QColor color;
            if (data.task == TaskKind::Classification) {
                color = classColor(static_cast<int>(target));
            } else {
                const double t = maxT > minT ? (target - minT) / (maxT - minT) : 0.5;
                color = QColor::fromHsvF(0.66 * (1.0 - t), 0.8, 0.85);
            }
            color.setAlphaF(0.75);
            painter.setBrush(color);
            const double x = area.left() + (feature(row, 0) - minX) / spanX * area.width();
            const double y = area.bottom() - (feature(row, 1) - minY) / spanY * area.height();
            painter.drawEllipse(QPointF(x, y), 2.2, 2.2);
        }
    }

    void paintThumbnails(QPainter& painter) {
        const Dataset& data = *m_data;
        const int channels = static_cast<int>(data.sampleShape[0]);
        const int height = static_cast<int>(data.sampleShape[1]);
        const int imageWidth = static_cast<int>(data.sampleShape[2]);
        const int64_t plane = static_cast<int64_t>(height) * imageWidth;
        const int count = static_cast<int>(std::min<int64_t>(data.rows, kThumbnails));
        const int cell = std::max(16, std::min(width() / std::max(count, 1), height * 4)) - 4;
        for (int index = 0; index < count; ++index) {
            const QImage image =
                sampleImage(data.features.data() + index * plane * channels, channels, height, imageWidth);
            const QRect target(4 + index * (cell + 4), 4, cell, cell);
            painter.drawImage(target, image);
            painter.drawText(target.adjusted(0, 0, 0, 16), Qt::AlignBottom | Qt::AlignHCenter,
                             QString::number(static_cast<int>(data.targets[static_cast<size_t>(index)])));
        }
    }

    const Dataset* m_data = nullptr;
};

DataForm::DataForm(QWidget* parent)
    : QWidget(parent)
    , m_reloadTimer(new QTimer(this)) {
    guardWheelEvents();
    auto* layout = new QVBoxLayout(this);
    m_form = new QFormLayout;
    m_kind = new QComboBox;
    for (const auto& [kind, name] : dataKindNames())
        m_kind->addItem(QString::fromLatin1(name), static_cast<int>(kind));
    const SpecNumberRules& rules = specNumberRules();
    m_samples = new NumberField(rules.samples);
    m_noise = new NumberField(rules.noise);
    m_classes = new NumberField(rules.classes);
    m_features = new NumberField(rules.features);
    m_pathRow = new QWidget;
    auto* pathLayout = new QHBoxLayout(m_pathRow);
    pathLayout->setContentsMargins(0, 0, 0, 0);
    m_path = new QLineEdit;
    m_browse = new QPushButton(tr("Browse…"));
    pathLayout->addWidget(m_path, 1);
    pathLayout->addWidget(m_browse);
    m_target = new QLineEdit;
    m_target->setPlaceholderText(tr("last column"));
    m_target->setToolTip(tr("The column to predict: its name in the header, or its 0-based index where no "
                            "column has that name. Empty: the last column."));
    m_task = new QComboBox;
    for (const auto& [task, name] : taskNames())
        m_task->addItem(QString::fromLatin1(name), static_cast<int>(task));
    m_limit = new NumberField(rules.limit);
    m_limit->setHint(tr("0 = all samples"));
    // 0 in either field: the images keep their files' size (which must then be the same for all).
    const NumberRule side{NumberRange{0.0, 4096.0}, true,
                          "a number of pixels from 0 to 4096 (0 = the files' size)"};
    m_imageSizeRow = new QWidget;
    auto* sizeLayout = new QHBoxLayout(m_imageSizeRow);
    sizeLayout->setContentsMargins(0, 0, 0, 0);
    m_imageHeight = new NumberField(side);
    m_imageWidth = new NumberField(side);
    m_imageHeight->setObjectName(QStringLiteral("data.image_size[0]"));
    m_imageWidth->setObjectName(QStringLiteral("data.image_size[1]"));
    m_imageHeight->setAccessibleName(tr("Image height"));
    m_imageWidth->setAccessibleName(tr("Image width"));
    m_imageHeight->setHint(tr("Height in pixels every image is resized to; 0 keeps the files' size"));
    m_imageWidth->setHint(tr("Width in pixels every image is resized to; 0 keeps the files' size"));
    sizeLayout->addWidget(m_imageHeight, 1);
    sizeLayout->addWidget(new QLabel(QStringLiteral("×")));
    sizeLayout->addWidget(m_imageWidth, 1);
    m_grayscale = new QCheckBox(tr("Read as one gray channel"));
    m_validation = new NumberField(rules.validationFraction);
    m_standardize = new QCheckBox(tr("Standardize features (training statistics)"));
    m_form->addRow(tr("Source"), m_kind);
    m_form->addRow(tr("Samples"), m_samples);
    m_form->addRow(tr("Noise"), m_noise);
    m_form->addRow(tr("Classes"), m_classes);
    m_form->addRow(tr("Features"), m_features);
    m_form->addRow(tr("Path"), m_pathRow);
    m_form->addRow(tr("Target column"), m_target);
    m_form->addRow(tr("Task"), m_task);
    m_form->addRow(tr("Limit"), m_limit);
    m_form->addRow(tr("Image size (h × w)"), m_imageSizeRow);
    m_form->addRow(QString(), m_grayscale);
    m_form->addRow(tr("Validation share"), m_validation);
    m_form->addRow(QString(), m_standardize);
    layout->addLayout(m_form);
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);
    m_preview = new DataPreview;
    layout->addWidget(m_preview, 1);

    m_reloadTimer->setSingleShot(true);
    m_reloadTimer->setInterval(kReloadDelayMs);
    connect(m_reloadTimer, &QTimer::timeout, this, &DataForm::loadInBackground);
    connect(m_browse, &QPushButton::clicked, this, &DataForm::browse);
    for (QComboBox* combo : {m_kind, m_task})
        connect(combo, &QComboBox::currentIndexChanged, this, &DataForm::onEdited);
    for (NumberField* field :
         {m_samples, m_classes, m_features, m_limit, m_noise, m_validation, m_imageHeight, m_imageWidth}) {
        connect(field, &NumberField::valueChanged, this, &DataForm::onEdited);
        connect(field, &NumberField::validityChanged, this, &DataForm::onEdited);
    }
    for (QLineEdit* edit : {m_path, m_target})
        connect(edit, &QLineEdit::editingFinished, this, &DataForm::onEdited);
    connect(m_standardize, &QCheckBox::toggled, this, &DataForm::onEdited);
    connect(m_grayscale, &QCheckBox::toggled, this, &DataForm::onEdited);
    installSearchMenus();
}

QStringList DataForm::problems() const {
    return invalidFieldProblems(this);
}

void DataForm::installSearchMenus() {
    const std::vector<std::pair<QWidget*, const char*>> fields = {
        {m_kind, "data.kind"},
        {m_samples, "data.samples"},
        {m_noise, "data.noise"},
        {m_classes, "data.classes"},
        {m_features, "data.features"},
        {m_path, "data.path"},
        {m_target, "data.target"},
        {m_task, "data.task"},
        {m_limit, "data.limit"},
        {m_validation, "data.validation_fraction"},
        {m_standardize, "data.standardize"},
        {m_grayscale, "data.grayscale"},
    };
    installFixedPathSearchMenus(
        fields, [this](const QString& path, const QString& value) { Q_EMIT searchRequested(path, value); },
        [this](const QString& path) { return m_searchedPaths.contains(path); });
}

QStringList DataForm::fieldPaths() const {
    return fieldPathsWithSearchMenu(this);
}

void DataForm::setSearchedPaths(const QStringList& paths) {
    m_searchedPaths = paths;
}

DataForm::~DataForm() {
    // A load under way reads only its own copy of the settings; it stops soon (a large file is not
    // read to its end) and its result is dropped.
    for (auto& job : m_loadJobs)
        job.cancel->store(true);
    for (auto& job : m_loadJobs)
        job.done.wait();
}

void DataForm::setSpec(const ExperimentSpec& spec) {
    showSpec(spec);
    reload();
}

void DataForm::openSpec(const ExperimentSpec& spec) {
    showSpec(spec);
    if (isGeneratedData(spec.data.kind)) {
        reload();
        return;
    }
    // The data before belongs to another experiment.
    m_loaded = false;
    m_dataset.reset();
    m_error = tr("the data is still loading");
    m_preview->setDataset(nullptr);
    loadInBackground();
}

void DataForm::showSpec(const ExperimentSpec& spec) {
    m_loading = true;
    const DataSpec& data = spec.data;
    m_hidden = data;
    m_seed = spec.seed;
    m_kind->setCurrentIndex(std::max(0, m_kind->findData(static_cast<int>(data.kind))));
    m_samples->setIntegerValue(data.samples);
    m_noise->setValue(data.noise);
    m_classes->setIntegerValue(data.classes);
    m_features->setIntegerValue(data.features);
    m_path->setText(QString::fromStdString(data.path));
    m_target->setText(!data.target.empty()    ? QString::fromStdString(data.target)
                      : data.targetIndex >= 0 ? QString::number(data.targetIndex)
                                              : QString());
    m_task->setCurrentIndex(std::max(0, m_task->findData(static_cast<int>(data.task))));
    m_limit->setIntegerValue(data.limit);
    m_imageHeight->setIntegerValue(data.imageSize.size() == 2 ? data.imageSize[0] : 0);
    m_imageWidth->setIntegerValue(data.imageSize.size() == 2 ? data.imageSize[1] : 0);
    checkImageSize();
    m_grayscale->setChecked(data.grayscale);
    m_validation->setValue(data.validationFraction);
    m_standardize->setChecked(data.standardize);
    m_loading = false;
    updateVisibleFields();
}

void DataForm::applyTo(ExperimentSpec& spec) const {
    DataSpec data = m_hidden;
    data.kind = static_cast<DataKind>(m_kind->currentData().toInt());
    data.samples = m_samples->integerValue();
    data.noise = m_noise->value();
    data.classes = static_cast<int>(m_classes->integerValue());
    data.features = static_cast<int>(m_features->integerValue());
    data.path = m_path->text().trimmed().toStdString();
    // What is typed is a name (the loader reads a whole number that names no column as its index), so
    // a column named "3" is never taken for the fourth column. An index the file gave stays an index.
    const QString target = m_target->text().trimmed();
    const bool fileIndex = m_hidden.targetIndex >= 0 && target == QString::number(m_hidden.targetIndex);
    data.target = fileIndex ? std::string() : target.toStdString();
    data.targetIndex = fileIndex ? m_hidden.targetIndex : -1;
    data.task = data.kind == DataKind::Csv          ? static_cast<TaskKind>(m_task->currentData().toInt())
                : data.kind == DataKind::Regression ? TaskKind::Regression
                                                    : TaskKind::Classification;
    data.limit = m_limit->integerValue();
    data.imageSize = m_imageSize;
    data.grayscale = m_grayscale->isChecked();
    data.validationFraction = m_validation->value();
    data.standardize = m_standardize->isChecked();
    spec.data = data;
}

void DataForm::updateVisibleFields() {
    const auto kind = static_cast<DataKind>(m_kind->currentData().toInt());
    auto show = [this](QWidget* field, bool visible) {
        if (QWidget* label = m_form->labelForField(field))
            label->setVisible(visible);
        field->setVisible(visible);
    };
    const bool generated = isGeneratedData(kind);
    show(m_samples, generated);
    show(m_noise, generated);
    show(m_classes, kind == DataKind::Spirals || kind == DataKind::Blobs);
    show(m_features, kind == DataKind::Blobs || kind == DataKind::Regression);
    show(m_pathRow, !generated);
    show(m_target, kind == DataKind::Csv);
    show(m_task, kind == DataKind::Csv);
    show(m_limit, isImageFileData(kind));
    show(m_imageSizeRow, kind == DataKind::ImageFolder);
    show(m_grayscale, kind == DataKind::ImageFolder);
}

// Both sides or neither (0 and 0: the files' own size). One side alone is refused in place, naming the
// side that is missing, and the spec keeps the size from before, as a refused number keeps its value.
void DataForm::checkImageSize() {
    const int64_t height = m_imageHeight->integerValue();
    const int64_t width = m_imageWidth->integerValue();
    const QString both = tr("type both sides in pixels, or 0 in both to keep the files' size");
    const QSignalBlocker heightSignals(m_imageHeight); // the form reports the change itself
    const QSignalBlocker widthSignals(m_imageWidth);
    m_imageHeight->setRelationProblem(
        height == 0 && width > 0 ? tr("0 while the width is %1; %2").arg(width).arg(both) : QString());
    m_imageWidth->setRelationProblem(
        width == 0 && height > 0 ? tr("0 while the height is %1; %2").arg(height).arg(both) : QString());
    if ((height > 0) == (width > 0))
        m_imageSize = height > 0 ? std::vector<int64_t>{height, width} : std::vector<int64_t>{};
}

void DataForm::onEdited() {
    if (m_loading)
        return;
    checkImageSize();
    updateVisibleFields();
    m_reloadTimer->start();
    Q_EMIT edited();
}

void DataForm::browse() {
    const auto kind = static_cast<DataKind>(m_kind->currentData().toInt());
    const QString start = m_path->text().isEmpty() ? QString() : m_path->text();
    const QString chosen = kind == DataKind::Csv
                               ? QFileDialog::getOpenFileName(this, tr("Open CSV Data"), start,
                                                              tr("CSV files (*.csv);;All files (*)"))
                               : QFileDialog::getExistingDirectory(this, tr("Open Data Folder"), start);
    if (chosen.isEmpty())
        return;
    m_path->setText(chosen);
    onEdited();
}

const Dataset& DataForm::dataset() const {
    static const Dataset kEmpty;
    return m_dataset ? *m_dataset : kEmpty;
}

void DataForm::reload() {
    m_reloadTimer->stop();
    ++m_loadRequest; // a load under way is older than this one
    m_awaitingLoad = false;
    ExperimentSpec spec;
    applyTo(spec);
    showLoaded(loadDatasetCached(spec.data, m_seed), spec.data.validationFraction);
}

// "Loading digits.csv (1.2 MB)…" for a file, "Loading mnist…" for a folder, "Loading…" for built-in data.
QString DataForm::loadingText(const DataSpec& data) {
    if (isGeneratedData(data.kind) || data.path.empty())
        return tr("Loading…");
    const QFileInfo file(QString::fromStdString(data.path));
    if (!file.isFile())
        return tr("Loading %1…").arg(file.fileName());
    return tr("Loading %1 (%2)…").arg(file.fileName(), QLocale().formattedDataSize(file.size()));
}

void DataForm::loadInBackground() {
    m_reloadTimer->stop();
    ExperimentSpec spec;
    applyTo(spec);
    const quint64 request = ++m_loadRequest;
    m_awaitingLoad = true;
    m_summary->setText(loadingText(spec.data));
    m_summary->setStyleSheet(QString());
    m_loadJobs.erase(std::remove_if(m_loadJobs.begin(), m_loadJobs.end(),
                                    [](const LoadJob& job) {
                                        return job.done.wait_for(std::chrono::seconds(0)) ==
                                               std::future_status::ready;
                                    }),
                     m_loadJobs.end());
    // The settings changed since: an older load's result would be dropped, so it need not finish.
    for (auto& job : m_loadJobs)
        job.cancel->store(true);
    QPointer<DataForm> self(this);
    auto cancel = std::make_shared<LoadCancel>(false);
    auto done = std::async(std::launch::async, [self, request, cancel, data = spec.data, seed = m_seed] {
        auto loaded = std::make_shared<Result<std::shared_ptr<const Dataset>>>(
            loadDatasetCached(data, seed, cancel.get()));
        QMetaObject::invokeMethod(
            qApp,
            [self, request, loaded, fraction = data.validationFraction] {
                if (!self)
                    return;
                if (request != self->m_loadRequest)
                    return; // newer settings loaded since, or are loading
                self->m_awaitingLoad = false;
                self->showLoaded(*loaded, fraction);
            },
            Qt::QueuedConnection);
    });
    m_loadJobs.push_back({std::move(done), std::move(cancel)});
    Q_EMIT loadStarted();
}

void DataForm::showLoaded(const Result<std::shared_ptr<const Dataset>>& loaded, double validationFraction) {
    m_loaded = loaded.ok();
    if (m_loaded) {
        m_dataset = loaded.value(); // shared with the cache: a run of this data does not read it again
        m_error.clear();
        const int64_t validation =
            static_cast<int64_t>(std::llround(validationFraction * static_cast<double>(m_dataset->rows)));
        QString text = tr("%1: %2 rows of %3")
                           .arg(QString::fromStdString(m_dataset->source))
                           .arg(m_dataset->rows)
                           .arg(QString::fromStdString(formatShape(m_dataset->sampleShape)));
        text += m_dataset->task == TaskKind::Classification ? tr(", %1 classes").arg(m_dataset->classes)
                                                            : tr(", regression");
        text += tr("; %1 for training, %2 for validation").arg(m_dataset->rows - validation).arg(validation);
        for (const std::string& warning : m_dataset->warnings)
            text += QStringLiteral("\n") + tr("Warning: %1").arg(QString::fromStdString(warning));
        m_summary->setText(text);
        // Amber when something loaded may not be what was meant; red is for what did not load.
        m_summary->setStyleSheet(m_dataset->warnings.empty() ? QString() : QStringLiteral("color: #8a5300;"));
        m_preview->setDataset(m_dataset.get());
    } else {
        m_dataset.reset();
        m_error = QString::fromStdString(loaded.error());
        m_summary->setText(m_error);
        m_summary->setStyleSheet(QStringLiteral("color: #b00020;"));
        m_preview->setDataset(nullptr);
    }
    Q_EMIT dataLoaded(m_loaded);
}

} // namespace tunelab
