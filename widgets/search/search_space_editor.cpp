#include "search/search_space_editor.h"

#include "common/number_field.h"

#include "search/search_space_model.h"

#include "common/file_saving.h"

#include <QCheckBox>
#include <QComboBox>
#include <QContextMenuEvent>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>

#include <memory>

namespace tunelab {

namespace {

// The kind column edits through a combo box, so only the four kinds can be chosen.
class KindDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem&, const QModelIndex&) const override {
        auto* combo = new QComboBox(parent);
        combo->addItems({QStringLiteral("float"), QStringLiteral("int"), QStringLiteral("categorical"),
                         QStringLiteral("fixed")});
        // Commit as soon as a kind is picked, so the row's columns change while the user watches.
        auto* self = const_cast<KindDelegate*>(this);
        connect(combo, &QComboBox::activated, self, [self, combo] {
            Q_EMIT self->commitData(combo);
            Q_EMIT self->closeEditor(combo);
        });
        return combo;
    }

    void setEditorData(QWidget* editor, const QModelIndex& index) const override {
        auto* combo = static_cast<QComboBox*>(editor);
        combo->setCurrentIndex(std::max(0, combo->findText(index.data(Qt::EditRole).toString())));
    }

    void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override {
        model->setData(index, static_cast<QComboBox*>(editor)->currentText(), Qt::EditRole);
    }
};

} // namespace

QString fieldValueJson(const QWidget* field) {
    auto quoted = [](const QString& text) {
        const QByteArray array = QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact);
        return QString::fromUtf8(array.mid(1, array.size() - 2));
    };
    if (const auto* number = qobject_cast<const NumberField*>(field)) {
        if (number->rule().integer)
            return QString::number(number->integerValue());
        // A decimal point keeps a float field a float: 1.0, not the integer 1.
        QString text = NumberField::formatNumber(number->value());
        if (!text.contains(QLatin1Char('.')) && !text.contains(QLatin1Char('e')))
            text += QStringLiteral(".0");
        return text;
    }
    if (const auto* spin = qobject_cast<const QSpinBox*>(field))
        return QString::number(spin->value());
    if (const auto* spin = qobject_cast<const QDoubleSpinBox*>(field)) {
        // A decimal point keeps a float field a float: 1.0, not the integer 1.
        QString text = QString::number(spin->value(), 'g', 12);
        if (!text.contains(QLatin1Char('.')) && !text.contains(QLatin1Char('e')))
            text += QStringLiteral(".0");
        return text;
    }
    if (const auto* check = qobject_cast<const QCheckBox*>(field))
        return check->isChecked() ? QStringLiteral("true") : QStringLiteral("false");
    if (const auto* combo = qobject_cast<const QComboBox*>(field)) {
        const QVariant data = combo->currentData();
        return quoted(data.typeId() == QMetaType::QString ? data.toString() : combo->currentText());
    }
    if (const auto* edit = qobject_cast<const QLineEdit*>(field))
        return quoted(edit->text());
    return QStringLiteral("null");
}

void installSearchMenu(QWidget* field, std::function<QString()> path,
                       std::function<void(const QString& path, const QString& valueJson)> request,
                       std::function<bool(const QString& path)> isSearched) {
    field->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(field, &QWidget::customContextMenuRequested, field,
                     [field, path = std::move(path), request = std::move(request),
                      isSearched = std::move(isSearched)](const QPoint& position) {
                         // Keep the field's own edit actions: a spin box's text is a line edit.
                         auto* edit = qobject_cast<QLineEdit*>(field);
                         if (!edit && qobject_cast<QAbstractSpinBox*>(field))
                             edit = field->findChild<QLineEdit*>();
                         std::unique_ptr<QMenu> menu(edit ? edit->createStandardContextMenu() : new QMenu);
                         const QString fieldPath = path();
                         auto* search =
                             new QAction(QObject::tr("Search over %1…").arg(fieldPath), menu.get());
                         search->setObjectName(QStringLiteral("searchOver"));
                         if (isSearched && isSearched(fieldPath)) {
                             search->setCheckable(true);
                             search->setChecked(true);
                             search->setToolTip(QObject::tr("%1 is in the search space").arg(fieldPath));
                         }
                         QObject::connect(search, &QAction::triggered, field, [field, fieldPath, request] {
                             request(fieldPath, fieldValueJson(field));
                         });
                         QAction* first = menu->actions().isEmpty() ? nullptr : menu->actions().first();
                         menu->insertAction(first, search);
                         if (first)
                             menu->insertSeparator(first);
                         menu->exec(field->mapToGlobal(position));
                     });
}

void installFixedPathSearchMenus(
    const std::vector<std::pair<QWidget*, const char*>>& fieldsByPath,
    const std::function<void(const QString& path, const QString& valueJson)>& request,
    const std::function<bool(const QString& path)>& isSearched) {
    for (const auto& [field, path] : fieldsByPath) {
        const QString fieldPath = QString::fromLatin1(path);
        field->setObjectName(fieldPath);
        installSearchMenu(
            field, [fieldPath] { return fieldPath; }, request, isSearched);
    }
}

QStringList fieldPathsWithSearchMenu(const QWidget* form) {
    QStringList paths;
    for (const QWidget* field : form->findChildren<QWidget*>()) {
        if (field->contextMenuPolicy() == Qt::CustomContextMenu && !field->objectName().isEmpty())
            paths << field->objectName();
    }
    return paths;
}

SearchSpaceEditor::SearchSpaceEditor(QWidget* parent)
    : QWidget(parent)
    , m_model(new SearchSpaceModel(this)) {
    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("spaceTable"));
    m_view->setModel(m_model);
    m_view->setItemDelegateForColumn(SearchSpaceModel::KindColumn, new KindDelegate(m_view));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::SelectedClicked |
                            QAbstractItemView::EditKeyPressed | QAbstractItemView::AnyKeyPressed);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->setVisible(false);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 10);
    QHeaderView* header = m_view->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(true);
    header->resizeSection(SearchSpaceModel::PathColumn, 190);
    header->resizeSection(SearchSpaceModel::KindColumn, 90);
    header->resizeSection(SearchSpaceModel::LowColumn, 70);
    header->resizeSection(SearchSpaceModel::HighColumn, 70);
    header->resizeSection(SearchSpaceModel::LogColumn, 40);
    header->resizeSection(SearchSpaceModel::StepColumn, 50);
    header->resizeSection(SearchSpaceModel::ValuesColumn, 230);
    header->resizeSection(SearchSpaceModel::ConditionColumn, 170);

    auto* add = new QPushButton(tr("Add"), this);
    add->setObjectName(QStringLiteral("addParameter"));
    add->setToolTip(tr("Add a parameter and type its path (or right-click a field in the experiment and "
                       "choose Search over…)"));
    m_remove = new QPushButton(tr("Remove"), this);
    m_remove->setObjectName(QStringLiteral("removeParameter"));
    m_remove->setEnabled(false);
    auto* open = new QPushButton(tr("Open space…"), this);
    open->setObjectName(QStringLiteral("openSpace"));
    auto* save = new QPushButton(tr("Save space…"), this);
    save->setObjectName(QStringLiteral("saveSpace"));
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("summary"));
    // On a line of its own and wrapped: a problem in the space is read in full at any panel width.
    m_summary->setWordWrap(true);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(add);
    buttons->addWidget(m_remove);
    buttons->addStretch(1);
    buttons->addWidget(open);
    buttons->addWidget(save);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(m_summary);
    layout->addWidget(m_view, 1);

    connect(add, &QPushButton::clicked, this, [this] {
        const int row = m_model->addParameter(QString(), QStringLiteral("null"));
        const QModelIndex path = m_model->index(row, SearchSpaceModel::PathColumn);
        m_view->setCurrentIndex(path);
        m_view->edit(path);
    });
    connect(m_remove, &QPushButton::clicked, this, &SearchSpaceEditor::removeSelected);
    connect(open, &QPushButton::clicked, this, &SearchSpaceEditor::openWithDialog);
    connect(save, &QPushButton::clicked, this, &SearchSpaceEditor::saveWithDialog);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { m_remove->setEnabled(m_view->selectionModel()->hasSelection()); });
    connect(m_model, &SearchSpaceModel::spaceChanged, this, [this] {
        updateSummary();
        Q_EMIT spaceChanged();
        Q_EMIT searchedPathsChanged(m_model->parameterPaths());
    });
    updateSummary();
}

QString SearchSpaceEditor::summaryText() const {
    return m_summary->text();
}

void SearchSpaceEditor::setBaseExperiment(const QString& specJson) {
    m_model->setBaseExperiment(specJson);
    updateSummary();
}

void SearchSpaceEditor::setSpaceJson(const QString& json) {
    m_model->setSpaceJson(json);
}

QString SearchSpaceEditor::spaceJson() const {
    return m_model->spaceJson();
}

void SearchSpaceEditor::addParameter(const QString& path, const QString& currentValueJson) {
    const int row = m_model->addParameter(path, currentValueJson);
    m_view->setCurrentIndex(m_model->index(row, SearchSpaceModel::PathColumn));
    m_view->scrollTo(m_model->index(row, SearchSpaceModel::PathColumn));
}

void SearchSpaceEditor::removeSelected() {
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (!rows.isEmpty())
        m_model->removeRow(rows.first().row());
}

bool SearchSpaceEditor::openFile(const QString& fileName, QString* error) {
    QFile file(fileName);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = tr("Cannot read %1: %2").arg(fileName, file.errorString());
        return false;
    }
    if (!m_model->setSpaceJson(QString::fromUtf8(file.readAll()))) {
        if (error)
            *error =
                tr("%1 is not a search space: expected an object with a \"parameters\" array").arg(fileName);
        return false;
    }
    return true;
}

bool SearchSpaceEditor::saveFile(const QString& fileName, QString* error) const {
    return saveFileBytes(fileName, spaceJson().toUtf8(), error);
}

void SearchSpaceEditor::openWithDialog() {
    const QString fileName = QFileDialog::getOpenFileName(this, tr("Open Search Space"), QString(),
                                                          tr("Search spaces (*.json);;All files (*)"));
    QString error;
    if (!fileName.isEmpty() && !openFile(fileName, &error))
        QMessageBox::warning(this, tr("Open Search Space"), error);
}

void SearchSpaceEditor::saveWithDialog() {
    const QString fileName = QFileDialog::getSaveFileName(this, tr("Save Search Space"), QString(),
                                                          tr("Search spaces (*.json);;All files (*)"));
    QString error;
    if (!fileName.isEmpty() && !saveFile(fileName, &error))
        QMessageBox::warning(this, tr("Save Search Space"), error);
}

void SearchSpaceEditor::updateSummary() {
    const int count = m_model->rowCount();
    if (count == 0) {
        m_summary->setText(
            tr("No parameters yet: right-click a field of the experiment and choose Search over…"));
        m_summary->setStyleSheet(QString());
        return;
    }
    QString text = count == 1 ? tr("1 parameter") : tr("%1 parameters").arg(count);
    text += tr(", %1 conditional").arg(m_model->conditionalCount());
    const int problems = m_model->errors().size();
    if (problems > 0) {
        text += problems == 1 ? tr(", 1 problem") : tr(", %1 problems").arg(problems);
    } else {
        const qint64 grid = m_model->gridSize();
        text += grid >= 0 ? tr(", grid size %1").arg(grid) : tr(", continuous");
    }
    m_summary->setText(text);
    m_summary->setStyleSheet(problems > 0 ? QStringLiteral("color: #b00020;") : QString());
}

} // namespace tunelab
