#pragma once

#include <QString>

#include <string>

namespace tunelab {

// The engine's text (UTF-8 std::string) as a QString, for labels, messages and file names.
inline QString fromStd(const std::string& text) {
    return QString::fromStdString(text);
}

} // namespace tunelab
