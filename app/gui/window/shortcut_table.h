#pragma once

#include <QKeySequence>
#include <QList>
#include <QString>
#include <QStringList>

class QWidget;

namespace tunelab {

// One key sequence a window answers to, and what it does ("Run", "Learning-rate range test").
struct ShortcutEntry {
    QKeySequence keys;
    QString what;
    const QObject* scope = nullptr; // the widget a widget-scoped shortcut belongs to; null: the window
};

// Every key sequence of `window`'s actions and QShortcuts, its child widgets' included, in creation
// order; one entry per action even when a menu and a toolbar both show it.
QList<ShortcutEntry> windowShortcuts(const QWidget* window);

// "Ctrl+L: Logarithmic loss axis, Learning-rate range test" for each key sequence that two of
// `window`'s actions or shortcuts share where both could fire (a key bound twice does nothing): two
// window-wide ones, a window-wide and a widget's, or two of the same widget. Each chart's own
// Ctrl+0 is no clash. Empty when every key is unique.
QStringList shortcutClashes(const QWidget* window);

} // namespace tunelab
