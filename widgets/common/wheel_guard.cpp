#include "common/wheel_guard.h"

#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QApplication>
#include <QComboBox>
#include <QEvent>
#include <QPointer>
#include <QScrollBar>

namespace tunelab {

namespace {

bool holdsAValue(const QWidget* widget) {
    return qobject_cast<const QAbstractSpinBox*>(widget) || qobject_cast<const QComboBox*>(widget) ||
           (qobject_cast<const QAbstractSlider*>(widget) && !qobject_cast<const QScrollBar*>(widget));
}

class WheelGuard : public QObject {
public:
    using QObject::QObject;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (event->type() != QEvent::Wheel && event->type() != QEvent::Polish)
            return false;
        auto* widget = qobject_cast<QWidget*>(watched);
        if (!widget || !holdsAValue(widget))
            return false;
        if (event->type() == QEvent::Polish) {
            // A wheel-focus policy would give the field focus on the first turn of the wheel.
            if (widget->focusPolicy() == Qt::WheelFocus)
                widget->setFocusPolicy(Qt::StrongFocus);
            return false;
        }
        if (widget->hasFocus())
            return false;
        event->ignore();
        if (QWidget* parent = widget->parentWidget())
            QCoreApplication::sendEvent(parent, event); // goes on up to the scroll area
        return true;
    }
};

} // namespace

void guardWheelEvents() {
    static QPointer<WheelGuard> guard;
    QCoreApplication* application = QCoreApplication::instance();
    if (guard || !application)
        return;
    guard = new WheelGuard(application);
    application->installEventFilter(guard);
}

} // namespace tunelab
