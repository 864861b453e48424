#pragma once

// The search-space table's text: kind names, JSON values as the table shows and reads them, lists
// split at the top level, a space read leniently for repair, and where a parser message belongs.
// Private to widgets/search.

#include "search/search_space.h"

#include <QJsonArray>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <optional>
#include <string>
#include <vector>

namespace tunelab::search_text {

// "float", "int", "categorical", "fixed", in ParamKind's order.
extern const QStringList kKindNames;
std::optional<ParamKind> kindFromName(const QString& name);
// One JSON value as compact text.
QString jsonText(const QJsonValue& value);
// Splits at `separator` outside quotes, brackets and braces, so "{"a":1,"b":2}, 3" is two values.
QStringList splitTopLevel(const QString& text, QChar separator);
// A JSON value for display: strings that read as plain words lose their quotes.
QString displayValue(const ParamValue& value);
QString numberText(double value);
// Reads what it can of a space the parser rejects, keeping the file's order and every value.
std::vector<SearchParameter> readLeniently(const QJsonArray& items);
// The row a message belongs to: "parameters[3] (path): ..." -> 3; -1 for messages about the whole space.
int rowOfMessage(const std::string& message);
// The message without its "parameters[i] (path): " prefix, which the row already shows.
QString withoutPlace(const std::string& message);

} // namespace tunelab::search_text
