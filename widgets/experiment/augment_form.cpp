#include "experiment/augment_form.h"

#include "common/number_field.h"
#include "common/wheel_guard.h"

#include "model/validation.h"
#include "search/search_space_editor.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHash>
#include <QLabel>
#include <QSignalBlocker>
#include <QToolButton>
#include <QUndoCommand>
#include <QUndoStack>
#include <QVBoxLayout>

namespace tunelab {

namespace {

bool sameAugment(const AugmentSpec& a, const AugmentSpec& b) {
    return a.flipHorizontal == b.flipHorizontal && a.flipVertical == b.flipVertical &&
           a.cropPadding == b.cropPadding && a.rotation == b.rotation && a.scaleMin == b.scaleMin &&
           a.scaleMax == b.scaleMax && a.translate == b.translate && a.brightness == b.brightness &&
           a.contrast == b.contrast && a.noise == b.noise && a.cutout == b.cutout && a.mixup == b.mixup;
}

NumberField* augmentField(const NumberRule& rule, const QString& hint) {
    auto* field = new NumberField(rule);
    field->setHint(hint);
    field->setMaximumWidth(90);
    return field;
}

} // namespace

// One edit of the augment section: the state before and after. The first redo() is the edit the user
// already made in the field; consecutive edits of one field merge into one step.
class AugmentEditCommand : public QUndoCommand {
public:
    AugmentEditCommand(AugmentForm* form, const AugmentSpec& before, const AugmentSpec& after, int field,
                       const QString& text)
        : QUndoCommand(text)
        , m_form(form)
        , m_before(before)
        , m_after(after)
        , m_field(field) {}

    void undo() override { m_form->showAugment(m_before, true); }
    void redo() override {
        if (m_done)
            m_form->showAugment(m_after, true);
        m_done = true;
    }
    int id() const override { return 0x417547; }
    bool mergeWith(const QUndoCommand* other) override {
        const auto* next = static_cast<const AugmentEditCommand*>(other);
        if (next->m_field != m_field)
            return false;
        m_after = next->m_after;
        return true;
    }

private:
    AugmentForm* m_form;
    AugmentSpec m_before;
    AugmentSpec m_after;
    int m_field;
    bool m_done = false;
};

AugmentForm::AugmentForm(QWidget* parent)
    : QWidget(parent)
    , m_undoStack(new QUndoStack(this)) {
    guardWheelEvents();
    const SpecNumberRules& rules = specNumberRules();
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_refusals = new QLabel;
    m_refusals->setObjectName(QStringLiteral("augmentRefusals"));
    m_refusals->setWordWrap(true);
    m_refusals->setTextFormat(Qt::PlainText);
    m_refusals->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_refusals->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_refusals->hide();
    layout->addWidget(m_refusals);

    m_imageBox = new QGroupBox(tr("Geometry (image samples)"));
    auto* imageForm = new QFormLayout(m_imageBox);
    m_imageNote = new QLabel;
    m_imageNote->setObjectName(QStringLiteral("imageOnlyNote"));
    m_imageNote->setWordWrap(true);
    m_imageNote->setTextFormat(Qt::PlainText);
    m_imageNote->hide();
    m_flipHorizontal = new QCheckBox(tr("Left–right"));
    m_flipVertical = new QCheckBox(tr("Top–bottom"));
    m_flipHorizontal->setToolTip(tr("Mirror half the samples, drawn per sample"));
    m_flipVertical->setToolTip(m_flipHorizontal->toolTip());
    auto* flips = new QWidget;
    auto* flipLayout = new QVBoxLayout(flips);
    flipLayout->setContentsMargins(0, 0, 0, 0);
    flipLayout->addWidget(m_flipHorizontal);
    flipLayout->addWidget(m_flipVertical);
    m_cropPadding =
        augmentField(rules.cropPadding, tr("Pad every side with this many zero pixels, then crop back to the "
                                           "image's size at a random place; 0 = off"));
    m_rotation = augmentField(rules.rotation, tr("Rotate by a uniform angle in [-r, r] degrees; 0 = off"));
    m_zoomLowField =
        augmentField(rules.augmentScale, tr("The smallest zoom factor (0.9 shrinks); 1 to 1 = off"));
    m_zoomHighField =
        augmentField(rules.augmentScale, tr("The largest zoom factor (1.1 enlarges); 1 to 1 = off"));
    m_zoomLowField->setMaximumWidth(56);
    m_zoomHighField->setMaximumWidth(56);
    m_zoomLowField->setAccessibleName(tr("Zoom from"));
    m_zoomHighField->setAccessibleName(tr("Zoom to"));
    m_zoomLowField->setObjectName(QStringLiteral("augment.scale[0]"));
    m_zoomHighField->setObjectName(QStringLiteral("augment.scale[1]"));
    m_translate = augmentField(rules.translate,
                               tr("Shift by up to this share of the width and the height (0 to 1); 0 = off"));
    m_cutout =
        augmentField(rules.cutout, tr("Set a square of this side to zero around a random pixel; 0 = off"));
    imageForm->addRow(m_imageNote);
    imageForm->addRow(tr("Flip"), flips);
    imageForm->addRow(tr("Crop padding (px)"), m_cropPadding);
    imageForm->addRow(tr("Rotation (degrees)"), m_rotation);
    imageForm->addRow(tr("Zoom"), inlineFieldRow({{QString(), m_zoomLowField}, {tr("to"), m_zoomHighField}}));
    imageForm->addRow(tr("Shift (share)"), m_translate);
    imageForm->addRow(tr("Cutout (px)"), m_cutout);
    layout->addWidget(m_imageBox);

    auto* valueBox = new QGroupBox(tr("Values (any data)"));
    auto* valueForm = new QFormLayout(valueBox);
    m_brightness = augmentField(rules.brightness, tr("Add a uniform value in [-b, b]; 0 = off"));
    m_contrast = augmentField(rules.contrast, tr("Stretch each sample about its own mean by a factor in "
                                                 "[1 - c, 1 + c] (0 to 1); 0 = off"));
    m_noise = augmentField(rules.augmentNoise, tr("Add Gaussian noise of this standard deviation; 0 = off"));
    m_mixup = augmentField(rules.mixup, tr("Mix each sample and its label with another of the batch by a "
                                           "weight drawn from Beta(a, a); needs cross_entropy; 0 = off"));
    valueForm->addRow(tr("Brightness"), m_brightness);
    valueForm->addRow(tr("Contrast"), m_contrast);
    valueForm->addRow(tr("Noise (std)"), m_noise);
    valueForm->addRow(tr("Mixup alpha"), m_mixup);
    layout->addWidget(valueBox);

    // Plain buttons, as in the network editor: the window's Edit menu holds the undo actions.
    auto* buttons = new QHBoxLayout;
    auto* undo = new QToolButton;
    undo->setText(tr("Undo"));
    undo->setEnabled(false);
    auto* redo = new QToolButton;
    redo->setText(tr("Redo"));
    redo->setEnabled(false);
    connect(undo, &QToolButton::clicked, m_undoStack, &QUndoStack::undo);
    connect(redo, &QToolButton::clicked, m_undoStack, &QUndoStack::redo);
    connect(m_undoStack, &QUndoStack::canUndoChanged, undo, &QWidget::setEnabled);
    connect(m_undoStack, &QUndoStack::canRedoChanged, redo, &QWidget::setEnabled);
    buttons->addWidget(undo);
    buttons->addWidget(redo);
    buttons->addStretch(1);
    layout->addLayout(buttons);
    layout->addStretch(1);

    // In the order of Field.
    m_fields = {m_flipHorizontal, m_flipVertical, m_cropPadding, m_rotation, m_zoomLowField, m_zoomHighField,
                m_translate,      m_cutout,       m_brightness,  m_contrast, m_noise,        m_mixup};
    for (size_t index = 0; index < m_fields.size(); ++index) {
        const auto field = static_cast<Field>(index);
        if (auto* box = qobject_cast<QCheckBox*>(m_fields[index])) {
            connect(box, &QCheckBox::toggled, this, [this, field] { onFieldEdited(field); });
        } else {
            auto* number = static_cast<NumberField*>(m_fields[index]);
            connect(number, &NumberField::valueChanged, this, [this, field] { onFieldEdited(field); });
            connect(number, &NumberField::validityChanged, this, [this, field] { onFieldEdited(field); });
        }
    }
    installSearchMenus();
    setSpec(defaultExperiment());
}

void AugmentForm::installSearchMenus() {
    const std::vector<std::pair<QWidget*, const char*>> fields = {
        {m_flipHorizontal, "augment.flip_horizontal"},
        {m_flipVertical, "augment.flip_vertical"},
        {m_cropPadding, "augment.crop_padding"},
        {m_rotation, "augment.rotation"},
        {m_translate, "augment.translate"},
        {m_cutout, "augment.cutout"},
        {m_brightness, "augment.brightness"},
        {m_contrast, "augment.contrast"},
        {m_noise, "augment.noise"},
        {m_mixup, "augment.mixup"},
    };
    installFixedPathSearchMenus(
        fields, [this](const QString& path, const QString& value) { Q_EMIT searchRequested(path, value); },
        [this](const QString& path) { return m_searchedPaths.contains(path); });
}

QStringList AugmentForm::fieldPaths() const {
    return fieldPathsWithSearchMenu(this);
}

void AugmentForm::setSearchedPaths(const QStringList& paths) {
    m_searchedPaths = paths;
}

void AugmentForm::setSpec(const ExperimentSpec& spec) {
    m_context = spec;
    showAugment(spec.augment, false);
    m_undoStack->clear();
}

void AugmentForm::setContext(const ExperimentSpec& spec, const Shape& sampleShape) {
    m_context = spec;
    m_shape = sampleShape;
    updateChecks();
}

void AugmentForm::applyTo(ExperimentSpec& spec) const {
    spec.augment = current();
}

AugmentSpec AugmentForm::current() const {
    AugmentSpec a;
    a.flipHorizontal = m_flipHorizontal->isChecked();
    a.flipVertical = m_flipVertical->isChecked();
    a.cropPadding = m_cropPadding->integerValue();
    a.rotation = m_rotation->value();
    a.scaleMin = m_zoomLow;
    a.scaleMax = m_zoomHigh;
    a.translate = m_translate->value();
    a.cutout = m_cutout->integerValue();
    a.brightness = m_brightness->value();
    a.contrast = m_contrast->value();
    a.noise = m_noise->value();
    a.mixup = m_mixup->value();
    return a;
}

void AugmentForm::showAugment(const AugmentSpec& augment, bool notify) {
    m_loading = true;
    m_flipHorizontal->setChecked(augment.flipHorizontal);
    m_flipVertical->setChecked(augment.flipVertical);
    m_cropPadding->setIntegerValue(augment.cropPadding);
    m_rotation->setValue(augment.rotation);
    m_zoomLowField->setValue(augment.scaleMin);
    m_zoomHighField->setValue(augment.scaleMax);
    m_translate->setValue(augment.translate);
    m_cutout->setIntegerValue(augment.cutout);
    m_brightness->setValue(augment.brightness);
    m_contrast->setValue(augment.contrast);
    m_noise->setValue(augment.noise);
    m_mixup->setValue(augment.mixup);
    m_loading = false;
    m_zoomLow = augment.scaleMin;
    m_zoomHigh = augment.scaleMax;
    m_shown = augment;
    updateChecks();
    if (notify)
        Q_EMIT edited();
}

void AugmentForm::onFieldEdited(Field field) {
    if (m_loading)
        return;
    if (field == ZoomLow || field == ZoomHigh)
        m_lastZoomEdit = field;
    updateChecks();
    const AugmentSpec now = current();
    if (!sameAugment(now, m_shown)) {
        const QString label = field == ZoomLow || field == ZoomHigh ? tr("Zoom") : labelOf(m_fields[field]);
        const AugmentSpec before = m_shown;
        m_shown = now;
        m_undoStack->push(new AugmentEditCommand(this, before, now, field, tr("Change %1").arg(label)));
    }
    Q_EMIT edited();
}

QWidget* AugmentForm::widgetFor(const std::string& key) const {
    const std::vector<std::pair<const char*, QWidget*>> keys = {{"flip_horizontal", m_flipHorizontal},
                                                                {"flip_vertical", m_flipVertical},
                                                                {"crop_padding", m_cropPadding},
                                                                {"rotation", m_rotation},
                                                                {"scale", m_zoomLowField},
                                                                {"translate", m_translate},
                                                                {"cutout", m_cutout},
                                                                {"brightness", m_brightness},
                                                                {"contrast", m_contrast},
                                                                {"noise", m_noise},
                                                                {"mixup", m_mixup}};
    for (const auto& [name, widget] : keys) {
        if (key == name)
            return widget;
    }
    return nullptr;
}

QString AugmentForm::labelOf(QWidget* field) const {
    if (field == m_flipHorizontal || field == m_flipVertical)
        return tr("Flip %1").arg(static_cast<QCheckBox*>(field)->text().toLower());
    if (!field)
        return QString();
    if (!field->accessibleName().isEmpty())
        return field->accessibleName();
    for (QFormLayout* form : findChildren<QFormLayout*>()) {
        if (auto* label = qobject_cast<QLabel*>(form->labelForField(field)))
            return label->text();
    }
    return field->objectName();
}

// The form's own relation (zoom low <= high), then the engine's check of the section against the
// experiment and its samples; each refusal shows at its field.
void AugmentForm::updateChecks() {
    QHash<NumberField*, QStringList> fieldProblems;
    const double low = m_zoomLowField->value();
    const double high = m_zoomHighField->value();
    if (low <= high) {
        m_zoomLow = low;
        m_zoomHigh = high;
    } else if (m_lastZoomEdit == ZoomLow) {
        fieldProblems[m_zoomLowField]
            << tr("%1 is above the zoom's high end %2; the zoom is drawn from low to high")
                   .arg(NumberField::formatNumber(low), NumberField::formatNumber(high));
    } else {
        fieldProblems[m_zoomHighField]
            << tr("%1 is below the zoom's low end %2; the zoom is drawn from low to high")
                   .arg(NumberField::formatNumber(high), NumberField::formatNumber(low));
    }

    m_otherProblems.clear();
    QStringList refusals;
    const bool image = m_shape.size() == 3;
    if (!m_shape.empty()) {
        ExperimentSpec spec = m_context;
        spec.augment = current();
        for (const std::string& message : augmentationErrors(spec, m_shape)) {
            refusals << QString::fromStdString(message);
            // "augment.rotation: rotation needs image samples ...": the key, then the reason.
            const size_t colon = message.find(": ");
            const std::string prefix = "augment.";
            const std::string key = message.rfind(prefix, 0) == 0 && colon != std::string::npos
                                        ? message.substr(prefix.size(), colon - prefix.size())
                                        : std::string();
            const QString reason =
                QString::fromStdString(colon == std::string::npos ? message : message.substr(colon + 2));
            QWidget* widget = widgetFor(key);
            if (auto* number = qobject_cast<NumberField*>(widget))
                fieldProblems[number] << reason;
            else
                m_otherProblems << QStringLiteral("%1: %2").arg(widget ? labelOf(widget) : tr("Augment"),
                                                                reason);
        }
    }
    for (NumberField* field : findChildren<NumberField*>()) {
        const QSignalBlocker blocker(field); // the form reports the change itself
        field->setRelationProblem(fieldProblems.value(field).join(QStringLiteral("; ")));
    }
    m_refusals->setText(refusals.join(QLatin1Char('\n')));
    m_refusals->setVisible(!refusals.isEmpty());

    // Image-only changes on tabular data: off, and why; one that holds a value stays on to be undone.
    const AugmentSpec a = current();
    const bool known = !m_shape.empty();
    const std::vector<std::pair<QWidget*, bool>> imageOnly = {
        {m_flipHorizontal, a.flipHorizontal}, {m_flipVertical, a.flipVertical},
        {m_cropPadding, a.cropPadding > 0},   {m_rotation, a.rotation > 0.0},
        {m_zoomLowField, a.scaleMin != 1.0},  {m_zoomHighField, a.scaleMax != 1.0},
        {m_translate, a.translate > 0.0},     {m_cutout, a.cutout > 0}};
    for (const auto& [widget, set] : imageOnly) {
        const auto* number = qobject_cast<const NumberField*>(widget);
        widget->setEnabled(image || !known || set || (number && !number->isValid()));
    }
    m_imageNote->setVisible(known && !image);
    if (known && !image)
        m_imageNote->setText(
            tr("These need image samples ([channels, height, width]); this data's samples are %1. "
               "data.input_shape reads table columns as images, like [1, 8, 8].")
                .arg(QString::fromStdString(formatShape(m_shape))));
}

QStringList AugmentForm::problems() const {
    return invalidFieldProblems(this) + m_otherProblems;
}

} // namespace tunelab
