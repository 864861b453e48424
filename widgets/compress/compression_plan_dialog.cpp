#include "compress/compression_plan_dialog.h"

#include "common/file_saving.h"
#include "common/names.h"
#include "common/number_field.h"
#include "common/qt_text.h"
#include "compress/compression_results_view.h"
#include "compress/compression_variant_form.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>

namespace tunelab {

namespace {

// parseCompressionPlan's limits for "latency".
const NumberRule kThreads{NumberRange{1.0, 1024.0, true, true}, true, "a number of CPU threads (1 or more)"};
const NumberRule kRepeats{NumberRange{10.0, 1e9, true, true}, true, "a number of forwards (10 or more)"};

QLabel* wrappedLabel(const QString& text = {}) {
    auto* label = new QLabel(text);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    return label;
}

QString kindName(VariantKind kind) {
    switch (kind) {
    case VariantKind::Prune:
        return CompressionPlanDialog::tr("Pruned (magnitude)");
    case VariantKind::Structured:
        return CompressionPlanDialog::tr("Structured (fewer neurons)");
    case VariantKind::Int8:
        return CompressionPlanDialog::tr("Int8 quantized");
    case VariantKind::Distill:
        return CompressionPlanDialog::tr("Distilled student");
    case VariantKind::Qat:
        return CompressionPlanDialog::tr("Int8 after quantization-aware fine-tuning");
    }
    return {};
}

// A plan or variant name as a folder name: anything but letters, digits, '-', '_' and '.' as '_'.
QString fileStem(const QString& name) {
    QString stem;
    for (const QChar c : name)
        stem +=
            c.isLetterOrNumber() || c == QLatin1Char('-') || c == QLatin1Char('_') || c == QLatin1Char('.')
                ? c
                : QLatin1Char('_');
    return stem.isEmpty() ? QStringLiteral("plan") : stem;
}

int weightLayers(const ModelSpec& model) {
    return static_cast<int>(
        std::count_if(model.layers.begin(), model.layers.end(), [](const LayerSpec& layer) {
            return layer.type == LayerType::Linear || layer.type == LayerType::Conv2d;
        }));
}

} // namespace

CompressionPlanDialog::CompressionPlanDialog(qint64 sourceRun, const QString& runName,
                                             const ExperimentSpec& source, QWidget* parent)
    : QDialog(parent)
    , m_sourceRun(sourceRun)
    , m_runName(runName)
    , m_source(source) {
    setObjectName(QStringLiteral("compressionPlanDialog"));
    setWindowTitle(tr("Optimize %1 #%2").arg(runName).arg(sourceRun));

    m_planPage = new QWidget;
    auto* planLayout = new QVBoxLayout(m_planPage);
    auto* intro = wrappedLabel(
        tr("Makes smaller or faster variants of %1 #%2 and measures each one the way the source is measured: "
           "validation accuracy, parameters, the exported file's size and CPU latency. Variants that train "
           "are "
           "new runs in the runs table; every file is read back and checked.")
            .arg(runName)
            .arg(sourceRun));
    planLayout->addWidget(intro);
    auto* settings = new QFormLayout;
    m_planName = new QLineEdit(QStringLiteral("compression"));
    m_planName->setObjectName(QStringLiteral("planName"));
    m_planName->setToolTip(tr("Names the plan's folder and its results"));
    settings->addRow(tr("Plan &name"), m_planName);
    m_threads = namedNumberField(kThreads, QStringLiteral("latency.threads"), tr("Latency threads"),
                                 tr("CPU threads for every latency measurement"), 80);
    m_threads->setIntegerValue(1);
    m_repeats = namedNumberField(kRepeats, QStringLiteral("latency.repeats"), tr("Latency repeats"),
                                 tr("Batch-1 forwards per measurement; the median is reported"), 80);
    m_repeats->setIntegerValue(300);
    settings->addRow(tr("Latency"), inlineFieldRow({{QString(), m_threads}, {tr("CPU threads,"), m_repeats}},
                                                   tr("forwards (the median counts)")));
    m_output = wrappedLabel();
    m_output->setObjectName(QStringLiteral("outputFolder"));
    m_output->setTextInteractionFlags(Qt::TextSelectableByMouse);
    settings->addRow(tr("Files"), m_output);
    planLayout->addLayout(settings);

    m_list = new QListWidget;
    m_list->setObjectName(QStringLiteral("variantList"));
    m_forms = new QStackedWidget;
    m_addButton = new QPushButton(tr("Add"));
    m_addButton->setObjectName(QStringLiteral("addVariantButton"));
    auto* addMenu = new QMenu(m_addButton);
    for (VariantKind kind : {VariantKind::Prune, VariantKind::Structured, VariantKind::Int8, VariantKind::Qat,
                             VariantKind::Distill}) {
        QAction* action = addMenu->addAction(kindName(kind), this, [this, kind] { addVariant(kind); });
        action->setObjectName(QStringLiteral("add_%1").arg(QString::fromLatin1(toString(kind))));
    }
    m_addButton->setMenu(addMenu);
    m_removeButton = new QPushButton(tr("Remove"));
    m_removeButton->setObjectName(QStringLiteral("removeVariantButton"));
    connect(m_removeButton, &QPushButton::clicked, this, [this] { removeVariant(m_list->currentRow()); });
    auto* listButtons = new QHBoxLayout;
    listButtons->addWidget(m_addButton);
    listButtons->addWidget(m_removeButton);
    listButtons->addStretch(1);
    auto* listSide = new QWidget;
    auto* listLayout = new QVBoxLayout(listSide);
    listLayout->setContentsMargins(0, 0, 0, 0);
    listLayout->addWidget(new QLabel(tr("Variants")));
    listLayout->addWidget(m_list, 1);
    listLayout->addLayout(listButtons);
    auto* formScroll = new QScrollArea;
    formScroll->setWidget(m_forms);
    formScroll->setWidgetResizable(true);
    formScroll->setFrameShape(QFrame::NoFrame);
    listSide->setMaximumWidth(380);
    auto* variants = new QHBoxLayout;
    variants->addWidget(listSide, 2);
    variants->addWidget(formScroll, 3);
    planLayout->addLayout(variants, 1);
    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0)
            m_forms->setCurrentIndex(row);
        m_removeButton->setEnabled(row >= 0 && !m_running);
    });

    m_results = new CompressionResultsView;
    m_tabs = new QTabWidget;
    m_tabs->addTab(m_planPage, tr("Plan"));
    m_tabs->addTab(m_results, tr("Results"));
    m_tabs->setTabEnabled(1, false);
    m_tabs->setTabToolTip(1, tr("What the plan measured, once it has run"));
    connect(m_results, &CompressionResultsView::exportRequested, this,
            &CompressionPlanDialog::chooseExportFile);

    m_log = new QPlainTextEdit;
    m_log->setObjectName(QStringLiteral("compressionLog"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_log->setPlaceholderText(tr("What the plan does shows here while it runs."));
    m_log->setFixedHeight(fontMetrics().lineSpacing() * 5 + 12);
    m_message = wrappedLabel();
    m_message->setObjectName(QStringLiteral("compressionMessage"));
    m_message->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_message->hide();

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    m_runButton = buttons->addButton(tr("Run"), QDialogButtonBox::ActionRole);
    m_runButton->setObjectName(QStringLiteral("runPlanButton"));
    m_runButton->setDefault(true);
    m_stopButton = buttons->addButton(tr("Stop"), QDialogButtonBox::ActionRole);
    m_stopButton->setObjectName(QStringLiteral("stopPlanButton"));
    m_stopButton->setEnabled(false);
    m_stopButton->setToolTip(
        tr("Stops the run in progress and skips the other variants; what finished stays"));
    connect(m_runButton, &QPushButton::clicked, this, &CompressionPlanDialog::startPlan);
    connect(m_stopButton, &QPushButton::clicked, this, [this] {
        if (m_stop)
            m_stop();
        m_stopButton->setEnabled(false);
        appendProgress(tr("Stopping: the run in progress ends, the other variants are skipped…"));
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &CompressionPlanDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_log);
    layout->addWidget(m_message);
    layout->addWidget(buttons);

    connect(m_planName, &QLineEdit::textEdited, this, [this] {
        updateOutputLabel();
        updateValidity();
    });
    connect(m_threads, &NumberField::validityChanged, this, &CompressionPlanDialog::updateValidity);
    connect(m_repeats, &NumberField::validityChanged, this, &CompressionPlanDialog::updateValidity);
    addPreset();
    updateOutputLabel();
    updateValidity();
    resize(1100, 760);
}

// The preset: each kind the source's network allows, with fine-tuning shorter and gentler than
// the source's training.
void CompressionPlanDialog::addPreset() {
    const int sourceEpochs = std::max(1, m_source.training.epochs);
    // A third of the source's rate, to two significant digits: 0.001 gives 0.00033.
    const double gentle = QString::number(m_source.optimizer.lr / 3.0, 'g', 2).toDouble();
    const auto preset = [this](VariantKind kind, const QString& name, const QString& key, double value,
                               int epochs, double lr) {
        CompressionVariantForm* form = addVariant(kind);
        form->nameEdit()->setText(name);
        if (!key.isEmpty())
            form->numberField(key)->setValue(value);
        if (epochs > 0)
            form->numberField(QStringLiteral("epochs"))->setIntegerValue(epochs);
        if (lr > 0.0 && lr <= 10.0)
            form->numberField(QStringLiteral("lr"))->setValue(lr);
        return form;
    };
    if (weightLayers(m_source.model) == 0) {
        addVariant(VariantKind::Distill)->nameEdit()->setText(QStringLiteral("student"));
    } else {
        preset(VariantKind::Prune, QStringLiteral("prune-50"), QStringLiteral("sparsity"), 0.5,
               std::max(1, sourceEpochs / 4), gentle);
        CompressionVariantForm* gradual =
            preset(VariantKind::Prune, QStringLiteral("prune-90"), QStringLiteral("sparsity"), 0.9,
                   std::max(2, sourceEpochs / 2), gentle);
        if (auto* schedule = gradual->findChild<QComboBox*>(QStringLiteral("schedule")))
            schedule->setCurrentIndex(schedule->findData(QStringLiteral("gradual")));
        if (weightLayers(m_source.model) >= 2)
            preset(VariantKind::Structured, QStringLiteral("structured-50"), QStringLiteral("fraction"), 0.5,
                   std::max(1, sourceEpochs / 2), gentle);
        addVariant(VariantKind::Int8)->nameEdit()->setText(QStringLiteral("int8"));
        addVariant(VariantKind::Distill)->nameEdit()->setText(QStringLiteral("student"));
    }
    for (int i = 0; i < variantCount(); ++i)
        updateItem(i);
    m_list->setCurrentRow(0);
}

int CompressionPlanDialog::variantCount() const {
    return m_forms->count();
}

CompressionVariantForm* CompressionPlanDialog::variantForm(int index) const {
    return qobject_cast<CompressionVariantForm*>(m_forms->widget(index));
}

QString CompressionPlanDialog::uniqueName(const QString& stem) const {
    std::set<QString> names;
    for (int i = 0; i < variantCount(); ++i)
        names.insert(variantForm(i)->name());
    if (!names.count(stem))
        return stem;
    for (int n = 2;; ++n)
        if (const QString name = QStringLiteral("%1-%2").arg(stem).arg(n); !names.count(name))
            return name;
}

CompressionVariantForm* CompressionPlanDialog::addVariant(VariantKind kind) {
    const QString stem =
        kind == VariantKind::Distill ? QStringLiteral("student") : QString::fromLatin1(toString(kind));
    auto* form = new CompressionVariantForm(kind, uniqueName(stem), m_source);
    m_forms->addWidget(form);
    m_list->addItem(QString());
    connect(form, &CompressionVariantForm::edited, this, [this, form] {
        updateItem(m_forms->indexOf(form));
        updateValidity();
    });
    connect(form->nameEdit(), &QLineEdit::textChanged, this, [this, form] {
        updateItem(m_forms->indexOf(form));
        updateValidity();
    });
    updateItem(variantCount() - 1);
    m_list->setCurrentRow(variantCount() - 1);
    updateValidity();
    return form;
}

void CompressionPlanDialog::removeVariant(int index) {
    if (index < 0 || index >= variantCount())
        return;
    QWidget* form = m_forms->widget(index);
    m_forms->removeWidget(form);
    form->deleteLater();
    delete m_list->takeItem(index);
    m_list->setCurrentRow(std::min(index, variantCount() - 1));
    updateValidity();
}

void CompressionPlanDialog::setPlan(const CompressionPlan& plan) {
    while (variantCount() > 0)
        removeVariant(variantCount() - 1);
    m_planName->setText(fromStd(plan.name));
    m_threads->setIntegerValue(plan.latencyThreads);
    m_repeats->setIntegerValue(plan.latencyRepeats);
    for (const CompressionVariant& variant : plan.variants)
        addVariant(variant.kind)->setVariant(variant);
    m_list->setCurrentRow(0);
    updateOutputLabel();
    updateValidity();
}

void CompressionPlanDialog::updateItem(int index) {
    if (index < 0 || index >= m_list->count())
        return;
    const CompressionVariantForm* form = variantForm(index);
    QListWidgetItem* item = m_list->item(index);
    const QStringList problems = form->problems();
    item->setText(QStringLiteral("%1  \u2014  %2")
                      .arg(form->name().isEmpty() ? tr("(no name)") : form->name(), form->summary()));
    item->setForeground(problems.isEmpty() ? palette().color(QPalette::Text) : QColor(0xb0, 0x00, 0x20));
    item->setToolTip(problems.isEmpty() ? CompressionVariantForm::kindTitle(form->kind())
                                        : problems.join('\n'));
}

QString CompressionPlanDialog::planJson() const {
    QJsonObject plan;
    plan[QStringLiteral("name")] = m_planName->text().trimmed();
    plan[QStringLiteral("source")] = QJsonObject{{QStringLiteral("run"), m_sourceRun}};
    plan[QStringLiteral("latency")] =
        QJsonObject{{QStringLiteral("threads"), static_cast<qint64>(m_threads->integerValue())},
                    {QStringLiteral("repeats"), static_cast<qint64>(m_repeats->integerValue())}};
    QJsonArray variants;
    for (int i = 0; i < variantCount(); ++i)
        variants.append(variantForm(i)->toJson());
    plan[QStringLiteral("variants")] = variants;
    return QString::fromUtf8(QJsonDocument(plan).toJson(QJsonDocument::Indented));
}

Result<CompressionPlan> CompressionPlanDialog::plan() const {
    QStringList problems;
    const QString name = m_planName->text().trimmed();
    if (name.isEmpty())
        problems << tr("Plan name: give the plan a name.");
    else if (const std::string why = nameProblem(name.toStdString()); !why.empty())
        problems << tr("Plan name: %1.").arg(fromStd(why));
    for (const NumberField* field : {m_threads, m_repeats})
        if (!field->isValid())
            problems << QStringLiteral("%1: %2").arg(field->accessibleName(), field->problem());
    if (variantCount() == 0)
        problems << tr("Add a variant: the plan has none.");
    std::set<QString> names;
    for (int i = 0; i < variantCount(); ++i) {
        const CompressionVariantForm* form = variantForm(i);
        const QString label = form->name().isEmpty() ? tr("Variant %1").arg(i + 1) : form->name();
        if (form->name().isEmpty())
            problems << tr("%1: give it a name.").arg(label);
        else if (!names.insert(form->name()).second)
            problems << tr("%1: another variant has this name.").arg(label);
        for (const QString& problem : form->problems())
            problems << QStringLiteral("%1 \u00b7 %2").arg(label, problem);
    }
    if (!problems.isEmpty()) {
        std::vector<std::string> messages;
        for (const QString& problem : problems)
            messages.push_back(problem.toStdString());
        return Result<CompressionPlan>(Errors{messages});
    }
    auto parsed = parseCompressionPlan(planJson().toStdString());
    if (!parsed.ok())
        return parsed;
    // What the runner checks before anything trains, where it needs no data: each trained
    // variant's experiment against the source.
    std::vector<std::string> messages;
    for (const CompressionVariant& variant : parsed.value().variants) {
        if (variant.kind != VariantKind::Prune && variant.kind != VariantKind::Distill)
            continue;
        auto experiment = variantExperiment(variant, m_source, m_sourceRun);
        for (size_t i = 0; !experiment.ok() && i < experiment.errors().size(); ++i)
            messages.push_back(variant.name + " \u00b7 " + experiment.errors()[i]);
    }
    if (!messages.empty())
        return Result<CompressionPlan>(Errors{messages});
    return parsed;
}

QString CompressionPlanDialog::problem() const {
    const Result<CompressionPlan> checked = plan();
    return checked.ok() ? QString() : fromStd(checked.error());
}

void CompressionPlanDialog::updateValidity() {
    const QString why = problem();
    m_message->setText(why);
    m_message->setVisible(!why.isEmpty());
    m_runButton->setEnabled(why.isEmpty() && !m_running);
    m_runButton->setToolTip(why.isEmpty() ? tr("Train, export and measure every variant") : why);
}

void CompressionPlanDialog::setOutputBase(const QString& folder) {
    m_outputBase = folder;
    updateOutputLabel();
}

QString CompressionPlanDialog::outputDirectory() const {
    const QString folder =
        QStringLiteral("%1-%2").arg(m_sourceRun).arg(fileStem(m_planName->text().trimmed()));
    return m_outputBase.isEmpty() ? QString() : QDir(m_outputBase).filePath(folder);
}

void CompressionPlanDialog::updateOutputLabel() {
    const QString folder = outputDirectory();
    m_output->setText(folder.isEmpty() ? tr("(no folder: set by the window)")
                                       : QDir::toNativeSeparators(folder));
}

QString CompressionPlanDialog::message() const {
    return m_message->isVisible() ? m_message->text() : QString();
}

void CompressionPlanDialog::setRunning(bool running) {
    m_running = running;
    m_planPage->setEnabled(!running);
    m_stopButton->setEnabled(running);
    m_removeButton->setEnabled(!running && m_list->currentRow() >= 0);
    updateValidity();
}

void CompressionPlanDialog::startPlan() {
    Result<CompressionPlan> checked = plan();
    if (!checked.ok() || m_running) {
        updateValidity();
        return;
    }
    m_log->clear();
    const QString why = m_run ? m_run(checked.value()) : tr("Nothing runs plans here.");
    if (!why.isEmpty()) {
        m_message->setText(why);
        m_message->show();
        return;
    }
    appendProgress(tr("Plan %1 for run #%2: %3, files in %4")
                       .arg(m_planName->text().trimmed())
                       .arg(m_sourceRun)
                       .arg(variantCount() == 1 ? tr("1 variant") : tr("%1 variants").arg(variantCount()))
                       .arg(QDir::toNativeSeparators(outputDirectory())));
    setRunning(true);
}

void CompressionPlanDialog::appendProgress(const QString& line) {
    m_log->appendPlainText(line);
}

void CompressionPlanDialog::showResults(const CompressionResult& result) {
    setRunning(false);
    m_results->setResult(result);
    m_tabs->setTabEnabled(1, true);
    m_tabs->setCurrentIndex(1);
    int failed = 0;
    for (const VariantResult& variant : result.variants)
        failed += variant.ok() ? 0 : 1;
    appendProgress(failed == 0   ? tr("Done: every variant was measured.")
                   : failed == 1 ? tr("Done: 1 variant did not finish; the table says why.")
                                 : tr("Done: %1 variants did not finish; the table says why.").arg(failed));
}

void CompressionPlanDialog::showFailure(const QString& message) {
    setRunning(false);
    appendProgress(tr("The plan did not run: %1").arg(message));
    m_message->setText(message);
    m_message->show();
}

QString CompressionPlanDialog::exportModelTo(const QString& name, const QString& path) {
    const CompressionResult& result = m_results->result();
    const VariantResult* found = name == fromStd(result.source.name) ? &result.source : nullptr;
    for (const VariantResult& variant : result.variants)
        if (fromStd(variant.name) == name)
            found = &variant;
    if (!found || !found->ok() || found->file.empty())
        return tr("%1 has no exported file.").arg(name);
    QFile file(fromStd(found->file));
    if (!file.open(QIODevice::ReadOnly))
        return tr("Cannot read %1: %2").arg(file.fileName(), file.errorString());
    return saveFileBytes(path, file.readAll());
}

void CompressionPlanDialog::chooseExportFile(const QString& name) {
    const CompressionResult& result = m_results->result();
    QString file = fromStd(result.source.name) == name ? fromStd(result.source.file) : QString();
    for (const VariantResult& variant : result.variants)
        if (fromStd(variant.name) == name)
            file = fromStd(variant.file);
    const QString suggested = QFileInfo(file).fileName();
    const QString path = QFileDialog::getSaveFileName(this, tr("Export %1").arg(name), suggested,
                                                      tr("TorchScript, runs without TuneLab (*.pt)"));
    if (path.isEmpty())
        return;
    const QString error = exportModelTo(name, path);
    appendProgress(error.isEmpty() ? tr("Exported %1 to %2").arg(name, QDir::toNativeSeparators(path))
                                   : tr("Cannot export %1: %2").arg(name, error));
    if (!error.isEmpty()) {
        m_message->setText(error);
        m_message->show();
    }
}

void CompressionPlanDialog::reject() {
    if (m_running && m_stop)
        m_stop(); // what finished stays in the run store; the window reports the end
    QDialog::reject();
}

} // namespace tunelab
