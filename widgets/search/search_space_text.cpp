#include "search/search_space_text.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace tunelab::search_text {

const QStringList kKindNames = {QStringLiteral("float"), QStringLiteral("int"), QStringLiteral("categorical"),
                                QStringLiteral("fixed")};

std::optional<ParamKind> kindFromName(const QString& name) {
    const int found = kKindNames.indexOf(name.trimmed().toLower());
    if (found < 0)
        return std::nullopt;
    return static_cast<ParamKind>(found);
}

QString jsonText(const QJsonValue& value) {
    const QByteArray array = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(array.mid(1, array.size() - 2));
}

QStringList splitTopLevel(const QString& text, QChar separator) {
    QStringList parts;
    QString current;
    int depth = 0;
    bool quoted = false;
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('\\') && i + 1 < text.size()) {
                current += c;
                current += text[++i];
                continue;
            }
            if (c == QLatin1Char('"'))
                quoted = false;
        } else if (c == QLatin1Char('"')) {
            quoted = true;
        } else if (c == QLatin1Char('[') || c == QLatin1Char('{')) {
            ++depth;
        } else if (c == QLatin1Char(']') || c == QLatin1Char('}')) {
            --depth;
        } else if (c == separator && depth == 0) {
            parts << current.trimmed();
            current.clear();
            continue;
        }
        current += c;
    }
    parts << current.trimmed();
    parts.removeAll(QString());
    return parts;
}

QString displayValue(const ParamValue& value) {
    static const QRegularExpression word(QStringLiteral("^\"([A-Za-z_][A-Za-z0-9_.:\\-]*)\"$"));
    const QString text = QString::fromStdString(value.json);
    const auto match = word.match(text);
    if (match.hasMatch()) {
        const QString inner = match.captured(1);
        if (inner != QLatin1String("true") && inner != QLatin1String("false") &&
            inner != QLatin1String("null"))
            return inner;
    }
    return text;
}

QString numberText(double value) {
    return QString::number(value, 'g', 12);
}

std::vector<SearchParameter> readLeniently(const QJsonArray& items) {
    std::vector<SearchParameter> parameters;
    for (const QJsonValue& itemValue : items) {
        const QJsonObject item = itemValue.toObject();
        SearchParameter parameter;
        parameter.index = static_cast<int>(parameters.size());
        parameter.path = item.value(QLatin1String("path")).toString().toStdString();
        parameter.kind =
            kindFromName(item.value(QLatin1String("kind")).toString()).value_or(ParamKind::Float);
        parameter.low = item.value(QLatin1String("low")).toDouble();
        parameter.high = item.value(QLatin1String("high")).toDouble();
        parameter.log = item.value(QLatin1String("log")).toBool();
        parameter.step =
            item.value(QLatin1String("step")).toDouble(parameter.kind == ParamKind::Int ? 1.0 : 0.0);
        for (const char* key : {"values", "choices"}) {
            for (const QJsonValue& value : item.value(QLatin1String(key)).toArray())
                parameter.values.push_back(ParamValue{jsonText(value).toStdString()});
        }
        if (item.contains(QLatin1String("value")))
            parameter.values.push_back(
                ParamValue{jsonText(item.value(QLatin1String("value"))).toStdString()});
        const QJsonObject when = item.value(QLatin1String("when")).toObject();
        for (auto it = when.begin(); it != when.end(); ++it) {
            ParamCondition condition;
            condition.parameter = it.key().toStdString();
            const QJsonArray accepted = it.value().isArray() ? it.value().toArray() : QJsonArray{it.value()};
            for (const QJsonValue& value : accepted)
                condition.values.push_back(ParamValue{jsonText(value).toStdString()});
            parameter.when.push_back(std::move(condition));
        }
        parameters.push_back(std::move(parameter));
    }
    return parameters;
}

int rowOfMessage(const std::string& message) {
    static const QRegularExpression place(QStringLiteral("^parameters\\[(\\d+)\\]"));
    const auto match = place.match(QString::fromStdString(message));
    return match.hasMatch() ? match.captured(1).toInt() : -1;
}

QString withoutPlace(const std::string& message) {
    const QString text = QString::fromStdString(message);
    static const QRegularExpression place(QStringLiteral("^parameters\\[\\d+\\]( \\([^)]*\\))?: "));
    return QString(text).remove(place);
}

} // namespace tunelab::search_text
