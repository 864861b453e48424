#include "window/shortcut_table.h"

#include <QAction>
#include <QMap>
#include <QShortcut>
#include <QWidget>

namespace tunelab {

namespace {

const QObject* scopeOf(Qt::ShortcutContext context, const QObject* parent) {
    return context == Qt::WidgetShortcut || context == Qt::WidgetWithChildrenShortcut ? parent : nullptr;
}

QString plainText(QString text) {
    text.remove(QLatin1Char('&'));
    if (text.endsWith(QChar(0x2026)))
        text.chop(1);
    return text;
}

} // namespace

QList<ShortcutEntry> windowShortcuts(const QWidget* window) {
    QList<ShortcutEntry> entries;
    for (const QAction* action : window->findChildren<QAction*>()) {
        for (const QKeySequence& keys : action->shortcuts()) {
            if (!keys.isEmpty())
                entries.append(
                    {keys, plainText(action->text()), scopeOf(action->shortcutContext(), action->parent())});
        }
    }
    for (const QShortcut* shortcut : window->findChildren<QShortcut*>()) {
        if (!shortcut->key().isEmpty())
            entries.append({shortcut->key(),
                            shortcut->whatsThis().isEmpty() ? shortcut->objectName() : shortcut->whatsThis(),
                            scopeOf(shortcut->context(), shortcut->parent())});
    }
    return entries;
}

QStringList shortcutClashes(const QWidget* window) {
    const QList<ShortcutEntry> entries = windowShortcuts(window);
    QMap<QString, QStringList> clashing;
    for (int i = 0; i < entries.size(); ++i) {
        for (int j = i + 1; j < entries.size(); ++j) {
            const ShortcutEntry& a = entries[i];
            const ShortcutEntry& b = entries[j];
            const bool bothFire = !a.scope || !b.scope || a.scope == b.scope;
            if (a.keys != b.keys || !bothFire)
                continue;
            QStringList& names = clashing[a.keys.toString(QKeySequence::NativeText)];
            for (const QString& name : {a.what, b.what}) {
                if (!names.contains(name))
                    names << name;
            }
        }
    }
    QStringList clashes;
    for (auto it = clashing.cbegin(); it != clashing.cend(); ++it)
        clashes << QStringLiteral("%1: %2").arg(it.key(), it.value().join(QStringLiteral(", ")));
    return clashes;
}

} // namespace tunelab
