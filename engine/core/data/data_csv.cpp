// CSV datasets: a header row of column names, then one sample per row. Every error names the
// file, the 1-based line and the column, because the user fixes the file, not the spec.

#include "data/dataset.h"

#include "common/file_text.h"
#include "spec/spec_names.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

namespace tunelab {

namespace {

constexpr int64_t kMaxClassLabel = 99'999; // beyond this a "label" is an id or a measurement
constexpr size_t kListedColumns = 12;

std::string shown(std::string_view text) {
    constexpr size_t kLongest = 40;
    std::string value(text.substr(0, kLongest));
    if (text.size() > kLongest)
        value += "...";
    return "\"" + value + "\"";
}

// Splits text into records of fields (RFC 4180 quoting, with quoted fields that may span lines),
// skipping blank lines and trimming spaces around unquoted fields.
class CsvReader {
public:
    enum class Status { Record, End, Error };

    CsvReader(std::string_view text, char delimiter)
        : m_text(text)
        , m_delimiter(delimiter) {}

    Status next() {
        m_fields.clear();
        m_unescaped.clear();
        if (!skipBlankLines())
            return Status::End;
        m_recordLine = m_line;
        while (true) {
            skipBlanks();
            if (!readField())
                return Status::Error;
            if (m_pos < m_text.size() && m_text[m_pos] == m_delimiter) {
                ++m_pos;
                continue;
            }
            consumeNewline();
            return Status::Record;
        }
    }

    const std::vector<std::string_view>& fields() const { return m_fields; }
    int64_t recordLine() const { return m_recordLine; }
    int64_t errorLine() const { return m_errorLine; }
    const std::string& error() const { return m_error; }

private:
    bool isBlank(char c) const { return (c == ' ' || c == '\t') && c != m_delimiter; }
    bool atNewline() const {
        return m_pos < m_text.size() && (m_text[m_pos] == '\n' || m_text[m_pos] == '\r');
    }

    void skipBlanks() {
        while (m_pos < m_text.size() && isBlank(m_text[m_pos]))
            ++m_pos;
    }

    // Accepts \n, \r\n and a lone \r (old Mac files) as one line end.
    void consumeNewline() {
        if (m_pos >= m_text.size())
            return;
        if (m_text[m_pos] == '\r' && m_pos + 1 < m_text.size() && m_text[m_pos + 1] == '\n')
            ++m_pos;
        ++m_pos;
        ++m_line;
    }

    bool skipBlankLines() {
        while (true) {
            skipBlanks();
            if (m_pos >= m_text.size())
                return false;
            if (!atNewline())
                return true;
            consumeNewline();
        }
    }

    bool fail(int64_t line, std::string message) {
        m_errorLine = line;
        m_error = std::move(message);
        return false;
    }

    bool readField() {
        if (m_pos < m_text.size() && m_text[m_pos] == '"')
            return readQuotedField();
        const size_t start = m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] != m_delimiter && !atNewline())
            ++m_pos;
        size_t end = m_pos;
        while (end > start && isBlank(m_text[end - 1]))
            --end;
        m_fields.push_back(m_text.substr(start, end - start));
        return true;
    }

    bool readQuotedField() {
        const int64_t openLine = m_line;
        const size_t start = ++m_pos;
        bool escaped = false;
        while (true) {
            if (m_pos >= m_text.size())
                return fail(openLine, "a quoted field starts here but its closing quote is missing");
            const char c = m_text[m_pos];
            if (c == '"') {
                if (m_pos + 1 < m_text.size() && m_text[m_pos + 1] == '"') {
                    escaped = true;
                    m_pos += 2;
                    continue;
                }
                break;
            }
            if (c == '\n' || (c == '\r' && (m_pos + 1 >= m_text.size() || m_text[m_pos + 1] != '\n')))
                ++m_line;
            ++m_pos;
        }
        std::string_view value = m_text.substr(start, m_pos - start);
        ++m_pos; // the closing quote
        skipBlanks();
        if (m_pos < m_text.size() && m_text[m_pos] != m_delimiter && !atNewline())
            return fail(m_line,
                        std::string("unexpected ") + shown(std::string_view(&m_text[m_pos], 1)) +
                            " after a closing quote; quotes inside a quoted field are written as \"\"");
        if (escaped) {
            std::string text;
            for (size_t i = 0; i < value.size(); ++i) {
                text += value[i];
                if (value[i] == '"')
                    ++i; // skip the second quote of each ""
            }
            // A deque never moves its elements, so earlier views into it stay valid.
            value = m_unescaped.emplace_back(std::move(text));
        }
        m_fields.push_back(value);
        return true;
    }

    std::string_view m_text;
    char m_delimiter;
    size_t m_pos = 0;
    int64_t m_line = 1;
    int64_t m_recordLine = 0;
    int64_t m_errorLine = 0;
    std::string m_error;
    std::vector<std::string_view> m_fields;
    std::deque<std::string> m_unescaped;
};

enum class NumberStatus { Ok, Empty, NotNumber, NotFinite, OutOfFloatRange };

NumberStatus parseNumber(std::string_view text, double& value) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    if (text.empty())
        return NumberStatus::Empty;
    if (text.front() == '+') { // from_chars takes no plus sign, but people write one
        text.remove_prefix(1);
        if (text.empty() || text.front() == '+' || text.front() == '-')
            return NumberStatus::NotNumber;
    }
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (stop != end || (error != std::errc() && error != std::errc::result_out_of_range))
        return NumberStatus::NotNumber;
    if (error == std::errc::result_out_of_range) {
        // from_chars reports underflow too; strtod tells a huge value from a tiny one.
        value = std::strtod(std::string(text).c_str(), nullptr);
        if (std::isinf(value))
            return NumberStatus::NotFinite;
    }
    if (!std::isfinite(value))
        return NumberStatus::NotFinite;
    if (std::fabs(value) > FLT_MAX)
        return NumberStatus::OutOfFloatRange;
    return NumberStatus::Ok;
}

// "1,5" in a semicolon file is a decimal comma, which strtod-style parsing does not read.
bool looksLikeDecimalComma(std::string_view text) {
    const size_t comma = text.find(',');
    return comma != std::string_view::npos && comma > 0 && comma + 1 < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[comma - 1])) &&
           std::isdigit(static_cast<unsigned char>(text[comma + 1]));
}

std::string numberProblem(NumberStatus status, std::string_view text) {
    switch (status) {
    case NumberStatus::Empty:
        return "expected a number, got an empty field";
    case NumberStatus::NotFinite:
        return "expected a finite number, got " + shown(text);
    case NumberStatus::OutOfFloatRange:
        return shown(text) + " is beyond the range of 32-bit floats";
    case NumberStatus::NotNumber:
        return "expected a number, got " + shown(text) +
               (looksLikeDecimalComma(text) ? " (write decimals with a point: 1.5, not 1,5)" : "");
    case NumberStatus::Ok:
        break;
    }
    return {};
}

std::string listColumns(const std::vector<std::string>& names) {
    std::string text;
    for (size_t i = 0; i < names.size() && i < kListedColumns; ++i)
        text += (i == 0 ? "" : ", ") + (names[i].size() > 32 ? names[i].substr(0, 32) + "..." : names[i]);
    if (names.size() > kListedColumns)
        text += ", ... (" + std::to_string(names.size()) + " columns)";
    return text;
}

// "0", "17": a column index written as text; nullopt for anything else (signs, spaces, "1e2").
std::optional<size_t> wholeNumber(const std::string& text) {
    if (text.empty() || text.size() > 9 ||
        !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
        return std::nullopt;
    return static_cast<size_t>(std::stoul(text));
}

// "columns 0 and 3 (0-based) are both named 'x'" for the first few names that repeat, or "".
std::string repeatedNames(const std::vector<std::string>& names) {
    constexpr size_t kListedRepeats = 3;
    std::map<std::string_view, size_t> firstColumn;
    std::vector<std::string> repeats;
    size_t count = 0;
    for (size_t column = 0; column < names.size(); ++column) {
        const auto [at, added] = firstColumn.emplace(names[column], column);
        if (added)
            continue;
        if (++count <= kListedRepeats)
            repeats.push_back("columns " + std::to_string(at->second) + " and " + std::to_string(column) +
                              " (0-based) are both named '" + names[column] + "'");
    }
    std::string text;
    for (size_t i = 0; i < repeats.size(); ++i)
        text += (i == 0 ? "" : "; ") + repeats[i];
    if (count > repeats.size())
        text += "; and " + std::to_string(count - repeats.size()) + " more";
    return text;
}

// Whether the first feature holds 0, 1, 2, ... (or 1, 2, 3, ...) row by row: a row index.
bool countsTheRows(const Dataset& data, size_t width) {
    constexpr int64_t kExactInFloat = int64_t{1} << 24;
    if (data.rows < 3 || data.rows > kExactInFloat)
        return false;
    const float first = data.features[0];
    if (first != 0.0f && first != 1.0f)
        return false;
    for (int64_t row = 0; row < data.rows; ++row) {
        if (data.features[static_cast<size_t>(row) * width] != first + static_cast<float>(row))
            return false;
    }
    return true;
}

std::string delimiterName(char delimiter) {
    return delimiter == '\t' ? std::string("\\t") : std::string(1, delimiter);
}

bool isBlank(std::string_view field) {
    return std::all_of(field.begin(), field.end(), [](char c) { return c == ' ' || c == '\t'; });
}

std::string delimiterHint(const std::string& header, char delimiter) {
    for (const char candidate : {';', '\t', ',', '|'}) {
        if (candidate != delimiter && header.find(candidate) != std::string::npos)
            return " (is the delimiter '" + delimiterName(candidate) + "'? set data.delimiter)";
    }
    return {};
}

struct RawTargets {
    std::vector<std::string> texts; // classification only: labels may be names
    std::vector<double> numbers;
    std::vector<NumberStatus> status;
    std::vector<int64_t> lines;
};

// Turns the target column into class indices: numbers 0..K-1 as they are, names sorted
// alphabetically (so the same file always gives the same indices).
Result<int> classifyTargets(const RawTargets& raw, const std::string& where, const std::string& column,
                            std::vector<float>& targets) {
    const auto failAt = [&](size_t row, const std::string& problem) {
        return Result<int>::failure(where + ":" + std::to_string(raw.lines[row]) + ": column '" + column +
                                    "': " + problem);
    };
    const size_t rows = raw.numbers.size();
    for (size_t row = 0; row < rows; ++row) {
        if (raw.status[row] == NumberStatus::Empty)
            return failAt(row, "the class label is empty");
        if (raw.status[row] == NumberStatus::NotFinite || raw.status[row] == NumberStatus::OutOfFloatRange)
            return failAt(row, numberProblem(raw.status[row], raw.texts[row]));
    }
    const bool numeric = raw.status[0] == NumberStatus::Ok;
    for (size_t row = 1; row < rows; ++row) {
        if ((raw.status[row] == NumberStatus::Ok) != numeric)
            return failAt(row, "the class label " + shown(raw.texts[row]) +
                                   (numeric ? " is text" : " is a number") + " but the label on line " +
                                   std::to_string(raw.lines[0]) + (numeric ? " is a number" : " is text") +
                                   "; use one kind of label");
    }
    targets.resize(rows);
    if (numeric) {
        double lowest = raw.numbers[0], highest = raw.numbers[0];
        for (size_t row = 0; row < rows; ++row) {
            const double value = raw.numbers[row];
            if (value < 0.0 || std::floor(value) != value)
                return failAt(row, "class labels must be whole numbers 0, 1, 2, ..., got " +
                                       shown(raw.texts[row]) +
                                       "; for a numeric target set data.task to \"regression\"");
            if (value > double(kMaxClassLabel))
                return failAt(row, "class label " + shown(raw.texts[row]) + " is too large (at most " +
                                       std::to_string(kMaxClassLabel) + ")");
            lowest = std::min(lowest, value);
            highest = std::max(highest, value);
            targets[row] = static_cast<float>(value);
        }
        if (lowest == highest)
            return Result<int>::failure(where + ": column '" + column + "': every row has class " +
                                        std::to_string(int64_t(lowest)) +
                                        "; classification needs at least two classes");
        return static_cast<int>(highest) + 1;
    }
    std::map<std::string, int> indices;
    for (const auto& text : raw.texts)
        indices.emplace(text, 0);
    if (indices.size() < 2)
        return Result<int>::failure(where + ": column '" + column + "': every row has class " +
                                    shown(raw.texts[0]) + "; classification needs at least two classes");
    if (indices.size() > size_t(kMaxClassLabel))
        return Result<int>::failure(where + ": column '" + column + "': " + std::to_string(indices.size()) +
                                    " distinct labels are too many classes; is it the right target column?");
    int next = 0;
    for (auto& entry : indices)
        entry.second = next++;
    for (size_t row = 0; row < rows; ++row)
        targets[row] = static_cast<float>(indices[raw.texts[row]]);
    return next;
}

// CSV files are read whole into memory; past this a user wants a binary format or a sample.
constexpr uint64_t kMaxCsvBytes = uint64_t(2) << 30;

Result<Dataset> loadCsv(const DataSpec& spec, const LoadCancel* cancel) {
    if (spec.path.empty())
        return Result<Dataset>::failure("data.path: missing; expected the path of a CSV file");
    std::string where = std::filesystem::path(spec.path).filename().string();
    if (where.empty())
        where = spec.path;
    std::error_code code;
    if (std::filesystem::is_directory(spec.path, code))
        return Result<Dataset>::failure("data.path: '" + spec.path + "' is a folder; expected a CSV file");
    auto file = readRegularFile(spec.path, kMaxCsvBytes, cancel);
    if (!file.ok())
        return Result<Dataset>::failure("data.path: " + file.error());
    if (loadCancelled(cancel))
        return Result<Dataset>::failure(kDataLoadCancelled);
    std::string_view text = file.value();
    if (text.size() >= 2 &&
        ((text[0] == '\xff' && text[1] == '\xfe') || (text[0] == '\xfe' && text[1] == '\xff')))
        return Result<Dataset>::failure(where + ": the file is UTF-16 text; save it as UTF-8");
    if (text.size() >= 3 && text.substr(0, 3) == "\xef\xbb\xbf")
        text.remove_prefix(3);
    if (const void* nul = std::memchr(text.data(), '\0', text.size())) {
        const auto offset = static_cast<size_t>(static_cast<const char*>(nul) - text.data());
        const auto line =
            1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
        return Result<Dataset>::failure(
            where + ":" + std::to_string(line) +
            ": the file holds binary data (a NUL byte); expected a text CSV file");
    }

    CsvReader reader(text, spec.delimiter);
    const auto syntaxError = [&] {
        return Result<Dataset>::failure(where + ":" + std::to_string(reader.errorLine()) + ": " +
                                        reader.error());
    };
    const CsvReader::Status headerStatus = reader.next();
    if (headerStatus == CsvReader::Status::Error)
        return syntaxError();
    if (headerStatus == CsvReader::Status::End)
        return Result<Dataset>::failure(where + ": the file is empty");
    std::vector<std::string> names;
    std::string headerText;
    const bool lastUnnamed = !reader.fields().empty() && reader.fields().back().empty();
    const bool firstUnnamed = !reader.fields().empty() && reader.fields().front().empty();
    for (const auto field : reader.fields()) {
        names.emplace_back(field.empty() ? "column " + std::to_string(names.size() + 1) : std::string(field));
        headerText += field;
    }
    const size_t columns = names.size();

    // Checked first, and without quoting the line: a file that is not a CSV at all (a log, a
    // password file) must not have its first line shown back as a "column name".
    if (columns < 2)
        return Result<Dataset>::failure(where +
                                        ":1: the header line has only one column; a target and at least one "
                                        "feature column are needed" +
                                        delimiterHint(headerText, spec.delimiter));
    size_t target = columns - 1;
    if (!spec.target.empty()) {
        std::vector<size_t> named;
        for (size_t column = 0; column < columns; ++column) {
            if (names[column] == spec.target)
                named.push_back(column);
        }
        if (named.size() > 1)
            return Result<Dataset>::failure(
                where + ": target column '" + spec.target + "' is ambiguous: columns " +
                std::to_string(named[0]) + " and " + std::to_string(named[1]) +
                " (0-based) are both named so; give data.target as the index of the one you mean");
        // A whole number that names no column is a column's index (the window's Target field takes both).
        const std::optional<size_t> index = wholeNumber(spec.target);
        if (named.empty() && index && *index < columns) {
            target = *index;
        } else if (named.empty()) {
            std::string message =
                where + ": target column '" + spec.target + "' not found; columns are: " + listColumns(names);
            if (index)
                message += " (as a 0-based index, " + spec.target + " is beyond the last, " +
                           std::to_string(columns - 1) + ")";
            else if (const std::string guess = closestMatch(spec.target, names); !guess.empty())
                message += " (did you mean '" + guess + "'?)";
            return Result<Dataset>::failure(message);
        } else {
            target = named[0];
        }
    } else if (spec.targetIndex >= 0) {
        if (static_cast<size_t>(spec.targetIndex) >= columns)
            return Result<Dataset>::failure(
                "data.target: column index " + std::to_string(spec.targetIndex) + " is out of range; " +
                where + " has " + std::to_string(columns) +
                (columns == 1 ? " column (index 0)"
                              : " columns (indices 0 to " + std::to_string(columns - 1) + ")"));
        target = static_cast<size_t>(spec.targetIndex);
    }

    const bool classification = spec.task == TaskKind::Classification;
    const size_t width = columns - 1;
    const auto expectedRows = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    Dataset data;
    // Each value takes at least two characters, which bounds the guess for odd files with many blank lines.
    data.features.reserve(std::min(expectedRows * width, text.size() / 2 + 1));
    data.targets.reserve(expectedRows);
    RawTargets raw;
    for (int64_t records = 0;; ++records) {
        if (records % 4096 == 0 && loadCancelled(cancel))
            return Result<Dataset>::failure(kDataLoadCancelled);
        const CsvReader::Status status = reader.next();
        if (status == CsvReader::Status::Error)
            return syntaxError();
        if (status == CsvReader::Status::End)
            break;
        const auto& fields = reader.fields();
        const std::string at = where + ":" + std::to_string(reader.recordLine()) + ": ";
        if (fields.size() != columns)
            return Result<Dataset>::failure(at + "expected " + std::to_string(columns) + " fields, found " +
                                            std::to_string(fields.size()));
        if (lastUnnamed && isBlank(fields.back()))
            return Result<Dataset>::failure(at +
                                            "the last column has neither a name nor a value: does every "
                                            "line end with '" +
                                            delimiterName(spec.delimiter) +
                                            "'? Remove the delimiter at the ends of the lines");
        for (size_t column = 0; column < columns; ++column) {
            double value = 0.0;
            const NumberStatus parsed = parseNumber(fields[column], value);
            if (column == target) {
                if (!classification) {
                    if (parsed != NumberStatus::Ok)
                        return Result<Dataset>::failure(at + "column '" + names[column] +
                                                        "': " + numberProblem(parsed, fields[column]));
                    data.targets.push_back(static_cast<float>(value));
                    continue;
                }
                raw.texts.emplace_back(fields[column]);
                raw.numbers.push_back(value);
                raw.status.push_back(parsed);
                raw.lines.push_back(reader.recordLine());
                continue;
            }
            if (parsed != NumberStatus::Ok)
                return Result<Dataset>::failure(at + "column '" + names[column] +
                                                "': " + numberProblem(parsed, fields[column]));
            data.features.push_back(static_cast<float>(value));
        }
        ++data.rows;
    }
    if (data.rows == 0)
        return Result<Dataset>::failure(where + ": no data rows after the header");

    if (classification) {
        // Trailing spaces were trimmed by the reader; labels inside quotes keep theirs.
        auto classes = classifyTargets(raw, where, names[target], data.targets);
        if (!classes.ok())
            return Result<Dataset>(Errors{classes.errors()});
        data.classes = classes.value();
    }
    data.source = where;
    data.task = spec.task;
    data.sampleShape = {static_cast<int64_t>(width)};
    if (target != 0 && (firstUnnamed || names[0] == "Unnamed: 0") && countsTheRows(data, width))
        data.warnings.push_back(where + ": column '" + names[0] +
                                "' is unnamed and counts the rows (0, 1, 2, ...): a row index saved with "
                                "the data, as pandas' to_csv writes by default? It is read as a feature, "
                                "which can give the network the rows' order; remove it from the file (or "
                                "save with index=False)");
    if (std::string repeated = repeatedNames(names); !repeated.empty())
        data.warnings.push_back(where + ": " + repeated +
                                ": they load as written, but plots and tables cannot tell them apart; "
                                "rename one of each in the file");
    for (size_t column = 0; column < columns; ++column) {
        if (column != target)
            data.featureNames.push_back(names[column]);
    }
    return data;
}

} // namespace

Result<Dataset> loadCsvDataset(const DataSpec& spec, const LoadCancel* cancel) {
    try {
        return loadCsv(spec, cancel);
    } catch (const std::bad_alloc&) {
        return Result<Dataset>::failure("data.path: not enough memory to load '" + spec.path + "'");
    } catch (const std::exception& error) {
        return Result<Dataset>::failure("data.path: cannot load '" + spec.path + "': " + error.what());
    }
}

} // namespace tunelab
