#include "common/durations.h"

#include <QCoreApplication>

#include <cmath>

namespace tunelab {

QString formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0.0)
        return QString();
    if (seconds < 0.9995) // a tiny run reads "24 ms", not "0.0 s"
        return QCoreApplication::translate("Durations", "%1 ms").arg(std::llround(seconds * 1000.0));
    if (seconds < 59.95)
        return QCoreApplication::translate("Durations", "%1 s").arg(seconds, 0, 'f', 1);
    const auto total = static_cast<long long>(std::llround(seconds));
    if (total < 3600)
        return QCoreApplication::translate("Durations", "%1 min %2 s")
            .arg(total / 60)
            .arg(total % 60, 2, 10, QLatin1Char('0'));
    const long long minutes = (total + 30) / 60;
    return QCoreApplication::translate("Durations", "%1 h %2 min")
        .arg(minutes / 60)
        .arg(minutes % 60, 2, 10, QLatin1Char('0'));
}

} // namespace tunelab
