#pragma once

#include "data/dataset.h"
#include "spec/spec.h"

#include <QWidget>

#include <vector>

class QCheckBox;
class QGroupBox;
class QLabel;
class QUndoStack;

namespace tunelab {

class NumberField;

// Edits the experiment's "augment" section (docs/experiment-format.md): flips, crop padding, rotation,
// zoom, shift and cutout for images; brightness, contrast and noise; mixup. Each number is checked as
// typed against the spec reader's rule, and a zoom whose low end is above its high end is refused in
// place; a refused value is never written (the spec keeps the one before it). Against the rest of the
// experiment and its data's sample shape (setContext) the engine's own check says what does not fit:
// image-only changes on tabular data, a crop or cutout larger than the images, mixup without
// cross_entropy. Image-only fields are disabled, with the reason, while the samples are not images.
// Every change is a command on undoStack(); consecutive edits of one field are one step.
class AugmentForm : public QWidget {
    Q_OBJECT

public:
    explicit AugmentForm(QWidget* parent = nullptr);

    // Shows spec.augment and takes the rest of the spec as the context; clears the undo history and
    // emits nothing.
    void setSpec(const ExperimentSpec& spec);
    // Writes the form's settings into spec.augment (the rest is left alone).
    void applyTo(ExperimentSpec& spec) const;
    // The experiment the section belongs to (its loss and distillation matter to mixup) and its
    // samples' shape; an empty shape while the data does not load, which skips the shape checks.
    void setContext(const ExperimentSpec& spec, const Shape& sampleShape);

    QUndoStack* undoStack() const { return m_undoStack; }
    // The spec path each field edits ("augment.rotation"), which is also its objectName.
    QStringList fieldPaths() const;
    // "Label: reason" for each shown field whose value is refused, or that the engine refuses for this
    // experiment; empty when all are valid.
    QStringList problems() const;

public Q_SLOTS:
    // Paths already in the search space; their "Search over…" entries show a check mark.
    void setSearchedPaths(const QStringList& paths);

Q_SIGNALS:
    void edited();
    // "Search over <path>…" was chosen in a field's context menu; the value is the field's, as JSON.
    void searchRequested(const QString& path, const QString& currentValueJson);

private:
    friend class AugmentEditCommand;

    // The fields, in the order of their ids (which name an undo step and merge edits of one field).
    enum Field {
        FlipH,
        FlipV,
        CropPadding,
        Rotation,
        ZoomLow,
        ZoomHigh,
        Translate,
        Cutout,
        Brightness,
        Contrast,
        Noise,
        Mixup
    };

    void onFieldEdited(Field field);
    // Shows `augment` in the fields as the current state; undo and redo come through here and notify.
    void showAugment(const AugmentSpec& augment, bool notify);
    void updateChecks();
    AugmentSpec current() const;
    QWidget* widgetFor(const std::string& key) const; // the field of a spec key ("rotation")
    QString labelOf(QWidget* field) const;
    void installSearchMenus();

    bool m_loading = false;
    QStringList m_searchedPaths;
    ExperimentSpec m_context; // the rest of the experiment, for the engine's check
    Shape m_shape;
    AugmentSpec m_shown; // what the form stands for: the last accepted state, the base of an undo step
    double m_zoomLow = 1.0, m_zoomHigh = 1.0; // the last zoom with low <= high
    Field m_lastZoomEdit = ZoomHigh;
    std::vector<QWidget*> m_fields; // by Field
    QStringList m_otherProblems;    // the engine's refusals of fields that cannot show them (the flips)
    QUndoStack* m_undoStack = nullptr;

    QCheckBox* m_flipHorizontal = nullptr;
    QCheckBox* m_flipVertical = nullptr;
    NumberField* m_cropPadding = nullptr;
    NumberField* m_rotation = nullptr;
    NumberField* m_zoomLowField = nullptr;
    NumberField* m_zoomHighField = nullptr;
    NumberField* m_translate = nullptr;
    NumberField* m_cutout = nullptr;
    NumberField* m_brightness = nullptr;
    NumberField* m_contrast = nullptr;
    NumberField* m_noise = nullptr;
    NumberField* m_mixup = nullptr;
    QGroupBox* m_imageBox = nullptr;
    QLabel* m_imageNote = nullptr; // why the image fields are off
    QLabel* m_refusals = nullptr;  // the engine's messages, in words
};

} // namespace tunelab
