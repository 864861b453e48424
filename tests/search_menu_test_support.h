#pragma once

// Helpers shared by the suites that drive "Search over…" context menus as a user would.

#include <QtCore/QTimer>
#include <QtGui/QAction>
#include <QtGui/QContextMenuEvent>
#include <QtWidgets/QApplication>
#include <QtWidgets/QMenu>
#include <QtWidgets/QWidget>

#include <functional>

namespace tunelab::test {

// What the "Search over…" entry of the menu that opened looked like.
struct ChosenEntry {
    bool found = false;
    QString text;
    bool checked = false;
};

// Calls `openMenu`, which should open a context menu, and picks its "Search over…" entry. The menu
// runs its own event loop, so a timer finds it among the top-level widgets and triggers the entry.
inline ChosenEntry chooseSearchOver(const std::function<void()>& openMenu) {
    ChosenEntry chosen;
    int attempts = 0;
    QTimer timer;
    timer.setInterval(10);
    QObject::connect(&timer, &QTimer::timeout, [&] {
        ++attempts;
        for (QWidget* widget : QApplication::topLevelWidgets()) {
            auto* menu = qobject_cast<QMenu*>(widget);
            if (!menu || !menu->isVisible())
                continue;
            timer.stop();
            if (auto* action = menu->findChild<QAction*>(QStringLiteral("searchOver"))) {
                chosen.found = true;
                chosen.text = action->text();
                chosen.checked = action->isChecked();
                menu->close();
                action->trigger();
            } else {
                menu->close();
            }
            return;
        }
        if (attempts > 200)
            timer.stop();
    });
    timer.start();
    openMenu();
    timer.stop();
    return chosen;
}

// Opens `target`'s context menu as a right-click would.
inline void rightClick(QWidget* target) {
    const QPoint position(4, 4);
    QContextMenuEvent event(QContextMenuEvent::Mouse, position, target->mapToGlobal(position));
    QApplication::sendEvent(target, &event);
}

// Right-clicks `field` and picks "Search over…" from the menu that opens.
inline ChosenEntry searchOverByRightClick(QWidget* field) {
    return chooseSearchOver([field] { rightClick(field); });
}

} // namespace tunelab::test
