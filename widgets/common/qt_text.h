#pragma once

#include <QString>

#include <cmath>
#include <string>

namespace tunelab {

// The engine's text (UTF-8 std::string) as a QString, for labels, messages and file names.
inline QString fromStd(const std::string& text) {
    return QString::fromStdString(text);
}

// A learning rate as the windows show it: three significant digits, a dash when there is none.
inline QString formatLearningRate(double rate) {
    return std::isfinite(rate) ? QString::number(rate, 'g', 3) : QStringLiteral("\u2013");
}

} // namespace tunelab
