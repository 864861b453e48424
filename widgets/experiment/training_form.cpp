#include "experiment/training_form.h"

#include "common/number_field.h"
#include "common/wheel_guard.h"

#include "optim/learning_rate_schedule.h"
#include "search/search_space_editor.h"
#include "spec/optimizer_catalog.h"
#include "spec/spec_names.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QPainter>
#include <QPainterPath>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tunelab {

// The learning rate over the planned steps, drawn with the same LearningRateSchedule the trainer
// uses, so the preview is exactly what training will do.
class SchedulePreview : public QWidget {
public:
    explicit SchedulePreview(QWidget* parent = nullptr)
        : QWidget(parent) {
        setMinimumHeight(64);
        setToolTip(tr("Learning rate over the planned steps"));
    }

    void setSchedule(const ScheduleSpec& schedule, double lr, int epochs, int64_t stepsPerEpoch) {
        m_schedule = schedule;
        m_lr = lr;
        m_epochs = std::max(epochs, 1);
        m_stepsPerEpoch = std::max<int64_t>(stepsPerEpoch, 1);
        update();
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(this);
        painter.setRenderHint(QPainter::Antialiasing);
        const QRectF area = QRectF(rect()).adjusted(4, 4, -4, -14);
        painter.fillRect(rect(), palette().base());
        LearningRateSchedule schedule(m_schedule, m_lr, m_epochs, m_stepsPerEpoch);
        const int64_t totalSteps = m_stepsPerEpoch * m_epochs;
        const int columns = std::max(2, static_cast<int>(area.width()));
        QPainterPath path;
        double peak = 0.0;
        std::vector<double> rates(static_cast<size_t>(columns));
        for (int column = 0; column < columns; ++column) {
            const int64_t step = totalSteps * column / columns;
            rates[static_cast<size_t>(column)] =
                schedule.learningRate(step, static_cast<int>(step / m_stepsPerEpoch));
            peak = std::max(peak, rates[static_cast<size_t>(column)]);
        }
        for (int column = 0; column < columns; ++column) {
            const double y =
                area.bottom() - (peak > 0 ? rates[static_cast<size_t>(column)] / peak : 0.0) * area.height();
            const double x = area.left() + column;
            if (column == 0)
                path.moveTo(x, y);
            else
                path.lineTo(x, y);
        }
        painter.setPen(QPen(palette().highlight().color(), 1.5));
        painter.drawPath(path);
        painter.setPen(palette().text().color());
        painter.drawText(QRectF(rect()).adjusted(4, 0, -4, 0), Qt::AlignBottom | Qt::AlignLeft,
                         tr("%1 steps, peak %2").arg(totalSteps).arg(peak, 0, 'g', 3));
    }

private:
    ScheduleSpec m_schedule;
    double m_lr = 1e-3;
    int m_epochs = 10;
    int64_t m_stepsPerEpoch = 10;
};

namespace {

template <typename Enum> void fillCombo(QComboBox* combo, const NameTable<Enum>& names) {
    for (const auto& [value, name] : names)
        combo->addItem(QString::fromLatin1(name), static_cast<int>(value));
}

NumberField* numberField(const NumberRule& rule) {
    return new NumberField(rule);
}

void setRowVisible(QFormLayout* form, QWidget* field, bool visible) {
    if (QWidget* label = form->labelForField(field))
        label->setVisible(visible);
    field->setVisible(visible);
}

template <typename Enum> void selectValue(QComboBox* combo, Enum value) {
    combo->setCurrentIndex(std::max(0, combo->findData(static_cast<int>(value))));
}

} // namespace

TrainingForm::TrainingForm(QWidget* parent)
    : QWidget(parent) {
    guardWheelEvents();
    auto* layout = new QVBoxLayout(this);

    const SpecNumberRules& rules = specNumberRules();
    auto* optimizerBox = new QGroupBox(tr("Loss and optimizer"));
    m_optimizerForm = new QFormLayout(optimizerBox);
    m_loss = new QComboBox;
    fillCombo(m_loss, lossTypeNames());
    m_huberDelta = numberField(rules.huberDelta);
    m_optimizer = new QComboBox;
    fillCombo(m_optimizer, optimizerTypeNames());
    m_optimizerForm->addRow(tr("Loss"), m_loss);
    m_optimizerForm->addRow(tr("Huber delta"), m_huberDelta);
    m_optimizerForm->addRow(tr("Optimizer"), m_optimizer);
    addOptimizerFields();
    layout->addWidget(optimizerBox);

    auto* scheduleBox = new QGroupBox(tr("Learning-rate schedule"));
    m_scheduleForm = new QFormLayout(scheduleBox);
    m_schedule = new QComboBox;
    fillCombo(m_schedule, scheduleTypeNames());
    m_warmup = numberField(rules.warmupEpochs);
    m_stepSize = numberField(rules.stepSize);
    m_gamma = numberField(rules.gamma);
    m_minLr = numberField(rules.minLr);
    m_factor = numberField(rules.plateauFactor);
    m_patience = numberField(rules.plateauPatience);
    m_preview = new SchedulePreview;
    m_scheduleForm->addRow(tr("Schedule"), m_schedule);
    m_scheduleForm->addRow(tr("Warm-up epochs"), m_warmup);
    m_scheduleForm->addRow(tr("Step size (epochs)"), m_stepSize);
    m_scheduleForm->addRow(tr("Gamma"), m_gamma);
    m_scheduleForm->addRow(tr("Factor"), m_factor);
    m_scheduleForm->addRow(tr("Patience (epochs)"), m_patience);
    m_scheduleForm->addRow(tr("Minimum rate"), m_minLr);
    m_scheduleForm->addRow(m_preview);
    layout->addWidget(scheduleBox);

    auto* trainingBox = new QGroupBox(tr("Training"));
    m_trainingForm = new QFormLayout(trainingBox);
    m_epochs = numberField(rules.epochs);
    m_batchSize = numberField(rules.batchSize);
    m_fullBatch = new QCheckBox(tr("Full batch (gradient descent)"));
    m_clip = numberField(rules.gradClipNorm);
    m_clip->setHint(tr("0 = no clipping"));
    m_earlyStopping = new QCheckBox(tr("Stop early"));
    m_earlyMetric = new QComboBox;
    fillCombo(m_earlyMetric, metricNames());
    m_earlyPatience = numberField(rules.earlyPatience);
    m_seed = numberField(rules.seed);
    m_device = new QComboBox;
    m_device->addItem(tr("auto"), QStringLiteral("auto"));
    m_precision = new QComboBox;
    fillCombo(m_precision, precisionNames());
    m_precision->setToolTip(tr("training.precision: bf16 computes the forward pass's matrix products and "
                               "convolutions in bfloat16 (mixed precision); weights, loss and gradients stay "
                               "float32"));
    m_deterministic = new QCheckBox(tr("Reproducible on a GPU (deterministic algorithms)"));
    m_deterministic->setToolTip(tr("training.deterministic: the same seed trains the same run every time, "
                                   "where LibTorch has a deterministic algorithm; the run names any "
                                   "operation that has none. Runs on the CPU are reproducible anyway."));
    m_trainingForm->addRow(tr("Epochs"), m_epochs);
    m_trainingForm->addRow(tr("Batch size"), m_batchSize);
    m_trainingForm->addRow(QString(), m_fullBatch);
    m_trainingForm->addRow(tr("Clip gradient norm"), m_clip);
    m_trainingForm->addRow(QString(), m_earlyStopping);
    m_trainingForm->addRow(tr("Monitor"), m_earlyMetric);
    m_trainingForm->addRow(tr("Patience (epochs)"), m_earlyPatience);
    m_trainingForm->addRow(tr("Seed"), m_seed);
    m_trainingForm->addRow(tr("Device"), m_device);
    m_trainingForm->addRow(tr("Precision"), m_precision);
    m_trainingForm->addRow(QString(), m_deterministic);
    layout->addWidget(trainingBox);
    layout->addStretch(1);

    // Before onEdited, so that the new optimizer's defaults are in place when edited() is emitted.
    connect(m_optimizer, &QComboBox::currentIndexChanged, this, &TrainingForm::onOptimizerChosen);
    for (QComboBox* combo : {m_loss, m_optimizer, m_schedule, m_earlyMetric, m_device, m_precision})
        connect(combo, &QComboBox::currentIndexChanged, this, &TrainingForm::onEdited);
    for (NumberField* field : {m_huberDelta, m_warmup, m_gamma, m_minLr, m_factor, m_clip, m_stepSize,
                               m_patience, m_epochs, m_batchSize, m_earlyPatience, m_seed})
        connectNumberField(field);
    for (QCheckBox* box : {m_fullBatch, m_earlyStopping, m_deterministic})
        connect(box, &QCheckBox::toggled, this, &TrainingForm::onEdited);

    installSearchMenus();
    setSpec(defaultExperiment());
}

void TrainingForm::installSearchMenus() {
    std::vector<std::pair<QWidget*, const char*>> fields = {
        {m_loss, "loss.type"},
        {m_huberDelta, "loss.delta"},
        {m_optimizer, "optimizer.type"},
    };
    for (const OptimizerField& field : m_optimizerFields)
        fields.emplace_back(field.widget, field.path.c_str());
    fields.insert(fields.end(), {
                                    {m_schedule, "schedule.type"},
                                    {m_warmup, "schedule.warmup_epochs"},
                                    {m_stepSize, "schedule.step_size"},
                                    {m_gamma, "schedule.gamma"},
                                    {m_minLr, "schedule.min_lr"},
                                    {m_factor, "schedule.factor"},
                                    {m_patience, "schedule.patience"},
                                    {m_epochs, "training.epochs"},
                                    {m_batchSize, "training.batch_size"},
                                    {m_clip, "training.grad_clip_norm"},
                                    {m_earlyMetric, "training.early_stopping.metric"},
                                    {m_earlyPatience, "training.early_stopping.patience"},
                                    {m_seed, "seed"},
                                    {m_device, "device"},
                                    {m_precision, "training.precision"},
                                });
    installFixedPathSearchMenus(
        fields, [this](const QString& path, const QString& value) { Q_EMIT searchRequested(path, value); },
        [this](const QString& path) { return m_searchedPaths.contains(path); });
}

QStringList TrainingForm::fieldPaths() const {
    return fieldPathsWithSearchMenu(this);
}

void TrainingForm::setSearchedPaths(const QStringList& paths) {
    m_searchedPaths = paths;
}

void TrainingForm::setDevices(const QStringList& ids, const QStringList& names) {
    const QString current = m_device->currentData().toString();
    const bool loading = m_loading;
    m_loading = true;
    m_device->clear();
    m_device->addItem(tr("auto"), QStringLiteral("auto"));
    for (int i = 0; i < ids.size(); ++i)
        m_device->addItem(i < names.size() ? names[i] : ids[i], ids[i]);
    m_device->setCurrentIndex(std::max(0, m_device->findData(current)));
    m_loading = loading;
}

void TrainingForm::setTrainingRows(qint64 rows) {
    m_trainingRows = std::max<qint64>(rows, 1);
    updatePreview();
}

void TrainingForm::setSpec(const ExperimentSpec& spec) {
    m_loading = true;
    selectValue(m_loss, spec.loss.type);
    m_huberDelta->setValue(spec.loss.delta);
    const OptimizerSpec& o = spec.optimizer;
    selectValue(m_optimizer, o.type);
    showOptimizer(o);
    const ScheduleSpec& s = spec.schedule;
    selectValue(m_schedule, s.type);
    m_warmup->setValue(s.warmupEpochs);
    m_stepSize->setValue(s.stepSize);
    m_gamma->setValue(s.gamma);
    m_minLr->setValue(s.minLr);
    m_factor->setValue(s.factor);
    m_patience->setValue(s.patience);
    const TrainingSpec& t = spec.training;
    m_epochs->setValue(t.epochs);
    m_batchSize->setIntegerValue(t.batchSize);
    m_fullBatch->setChecked(t.fullBatch);
    m_clip->setValue(t.gradClipNorm);
    m_earlyStopping->setChecked(t.earlyStopping.enabled);
    selectValue(m_earlyMetric, t.earlyStopping.metric);
    m_earlyPatience->setValue(t.earlyStopping.patience);
    m_seed->setIntegerValue(static_cast<int64_t>(std::min<uint64_t>(spec.seed, INT64_MAX)));
    int device = m_device->findData(QString::fromStdString(spec.device));
    if (device < 0) {
        m_device->addItem(QString::fromStdString(spec.device), QString::fromStdString(spec.device));
        device = m_device->count() - 1;
    }
    m_device->setCurrentIndex(device);
    m_deterministic->setChecked(t.deterministic);
    selectValue(m_precision, t.precision);
    m_loading = false;
    updateVisibleFields();
    updatePreview();
}

void TrainingForm::applyTo(ExperimentSpec& spec) const {
    spec.loss.type = static_cast<LossType>(m_loss->currentData().toInt());
    spec.loss.delta = m_huberDelta->value();
    OptimizerSpec& o = spec.optimizer;
    o.type = static_cast<OptimizerType>(m_optimizer->currentData().toInt());
    readOptimizer(o);
    ScheduleSpec& s = spec.schedule;
    s.type = static_cast<ScheduleType>(m_schedule->currentData().toInt());
    s.warmupEpochs = m_warmup->value();
    s.stepSize = static_cast<int>(m_stepSize->integerValue());
    s.gamma = m_gamma->value();
    s.minLr = m_minLr->value();
    s.factor = m_factor->value();
    s.patience = static_cast<int>(m_patience->integerValue());
    TrainingSpec& t = spec.training;
    t.epochs = static_cast<int>(m_epochs->integerValue());
    t.batchSize = m_batchSize->integerValue();
    t.fullBatch = m_fullBatch->isChecked();
    t.gradClipNorm = m_clip->value();
    t.earlyStopping.enabled = m_earlyStopping->isChecked();
    t.earlyStopping.metric = static_cast<MetricKind>(m_earlyMetric->currentData().toInt());
    t.earlyStopping.patience = static_cast<int>(m_earlyPatience->integerValue());
    spec.seed = static_cast<uint64_t>(m_seed->integerValue());
    spec.device = m_device->currentData().toString().toStdString();
    t.deterministic = m_deterministic->isChecked();
    t.precision = static_cast<Precision>(m_precision->currentData().toInt());
}

void TrainingForm::addOptimizerFields() {
    for (const OptimizerKey* key : allOptimizerKeys()) {
        const int elements = key->kind == OptimizerKeyKind::Pair ? 2 : 1;
        for (int element = 0; element < elements; ++element) {
            OptimizerField field{key, element, nullptr, std::string("optimizer.") + key->json};
            QString label = QString::fromLatin1(key->label);
            if (key->kind == OptimizerKeyKind::Pair) {
                field.path += "[" + std::to_string(element) + "]";
                label += QStringLiteral(" %1").arg(element + 1);
            }
            if (key->kind == OptimizerKeyKind::Bool) {
                auto* box = new QCheckBox(label);
                connect(box, &QCheckBox::toggled, this, &TrainingForm::onEdited);
                m_optimizerForm->addRow(QString(), box);
                field.widget = box;
            } else {
                // The catalog's range and words, as the spec reader checks them.
                auto* box = numberField(NumberRule{key->range, false, key->expected});
                connectNumberField(box);
                m_optimizerForm->addRow(label, box);
                field.widget = box;
            }
            m_optimizerFields.push_back(std::move(field));
        }
    }
}

QWidget* TrainingForm::optimizerField(const char* jsonKey) const {
    for (const OptimizerField& field : m_optimizerFields) {
        if (std::strcmp(field.key->json, jsonKey) == 0)
            return field.widget;
    }
    return nullptr;
}

void TrainingForm::showOptimizer(const OptimizerSpec& optimizer) {
    for (const OptimizerField& field : m_optimizerFields) {
        if (auto* box = qobject_cast<QCheckBox*>(field.widget))
            box->setChecked(field.key->flagIn(optimizer));
        else if (auto* number = qobject_cast<NumberField*>(field.widget))
            number->setValue(field.key->numberIn(optimizer, field.element));
    }
    m_shownOptimizer = optimizer.type;
}

void TrainingForm::readOptimizer(OptimizerSpec& optimizer) const {
    for (const OptimizerField& field : m_optimizerFields) {
        if (auto* box = qobject_cast<QCheckBox*>(field.widget))
            field.key->setFlag(optimizer, box->isChecked());
        else if (auto* number = qobject_cast<NumberField*>(field.widget))
            field.key->setNumber(optimizer, number->value(), field.element);
    }
    optimizer.nesterov = optimizer.nesterov && optimizer.momentum > 0.0 && optimizer.dampening == 0.0;
}

void TrainingForm::onOptimizerChosen() {
    if (m_loading)
        return;
    // Another optimizer: a key it shares with the old one keeps a value the user changed; every
    // other key starts from the new optimizer's default (Adagrad's eps 1e-10, AdamW's decay 0.01).
    const OptimizerInfo& before = optimizerInfo(m_shownOptimizer);
    const OptimizerInfo& after =
        optimizerInfo(static_cast<OptimizerType>(m_optimizer->currentData().toInt()));
    OptimizerSpec current = before.defaults;
    readOptimizer(current);
    OptimizerSpec next = after.defaults;
    for (const OptimizerKey* key : after.keys) {
        if (before.accepts(key->json) && !key->sameIn(current, before.defaults))
            key->copy(current, next);
    }
    m_loading = true;
    showOptimizer(next);
    m_loading = false;
}

void TrainingForm::updateVisibleFields() {
    const OptimizerInfo& optimizer =
        optimizerInfo(static_cast<OptimizerType>(m_optimizer->currentData().toInt()));
    setRowVisible(m_optimizerForm, m_huberDelta,
                  static_cast<LossType>(m_loss->currentData().toInt()) == LossType::Huber);
    for (const OptimizerField& field : m_optimizerFields)
        setRowVisible(m_optimizerForm, field.widget, optimizer.accepts(field.key->json));
    // PyTorch's rule, which the spec reader checks too: Nesterov needs momentum and no dampening.
    OptimizerSpec shown;
    readOptimizer(shown);
    optimizerField("nesterov")->setEnabled(shown.momentum > 0.0 && shown.dampening == 0.0);

    const auto schedule = static_cast<ScheduleType>(m_schedule->currentData().toInt());
    setRowVisible(m_scheduleForm, m_stepSize, schedule == ScheduleType::Step);
    setRowVisible(m_scheduleForm, m_gamma,
                  schedule == ScheduleType::Step || schedule == ScheduleType::Exponential);
    setRowVisible(m_scheduleForm, m_minLr,
                  schedule == ScheduleType::Cosine || schedule == ScheduleType::ReduceOnPlateau);
    setRowVisible(m_scheduleForm, m_factor, schedule == ScheduleType::ReduceOnPlateau);
    setRowVisible(m_scheduleForm, m_patience, schedule == ScheduleType::ReduceOnPlateau);

    m_batchSize->setEnabled(!m_fullBatch->isChecked());
    setRowVisible(m_trainingForm, m_earlyMetric, m_earlyStopping->isChecked());
    setRowVisible(m_trainingForm, m_earlyPatience, m_earlyStopping->isChecked());
}

void TrainingForm::updatePreview() {
    ExperimentSpec spec;
    applyTo(spec);
    const int64_t batch =
        spec.training.fullBatch ? m_trainingRows : std::max<int64_t>(spec.training.batchSize, 1);
    const int64_t stepsPerEpoch = (m_trainingRows + batch - 1) / batch;
    m_preview->setSchedule(spec.schedule, spec.optimizer.lr, spec.training.epochs, stepsPerEpoch);
}

void TrainingForm::connectNumberField(NumberField* field) {
    connect(field, &NumberField::valueChanged, this, &TrainingForm::onEdited);
    connect(field, &NumberField::validityChanged, this, &TrainingForm::onEdited);
}

QStringList TrainingForm::problems() const {
    return invalidFieldProblems(this);
}

void TrainingForm::onEdited() {
    if (m_loading)
        return;
    updateVisibleFields();
    updatePreview();
    Q_EMIT edited();
}

} // namespace tunelab
