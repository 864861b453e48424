#include "common/json_file_util.h"

#include "common/file_text.h"

#include "common/did_you_mean.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tunelab::json_file {

using nlohmann::json;

std::string describe(const json& value) {
    std::string text = value.dump();
    if (text.size() > 40)
        text = text.substr(0, 37) + "...";
    return text;
}

std::string directoryOf(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string resolvePath(const std::string& path, const std::string& baseDirectory) {
    if (path.empty() || path.front() == '/' || baseDirectory.empty() || baseDirectory == ".")
        return path;
    return baseDirectory + "/" + path;
}

Result<std::string> readFile(const std::string& path) {
    return readRegularFile(path, kMaxJsonFileBytes);
}

void rejectUnknownKeys(const json& object, const std::string& where, const std::vector<std::string>& known,
                       std::vector<std::string>& errors) {
    for (const auto& item : object.items()) {
        bool found = false;
        for (const auto& key : known)
            found = found || key == item.key();
        if (found)
            continue;
        std::string message = (where.empty() ? "" : where + ": ") + "unknown key '" + item.key() + "'";
        const std::string suggestion = closestMatch(item.key(), known);
        if (!suggestion.empty())
            message += "; did you mean " + suggestion + "?";
        errors.push_back(message);
    }
}

bool readInlineOrFile(const json& root, const std::string& key, const std::string& baseDirectory,
                      std::string& text, std::string& directory, std::vector<std::string>& errors) {
    const json& value = root[key];
    directory = baseDirectory;
    if (value.is_object()) {
        text = value.dump(2);
        return true;
    }
    if (value.is_string()) {
        const std::string path = resolvePath(value.get<std::string>(), baseDirectory);
        auto read = readFile(path);
        if (!read.ok()) {
            errors.push_back(key + ": " + read.error());
            return false;
        }
        text = read.take();
        directory = directoryOf(path);
        return true;
    }
    errors.push_back(key + ": expected an object or a file path, got " + describe(value));
    return false;
}

std::string withAbsoluteDataPath(const std::string& experimentJson, const std::string& directory) {
    auto experiment = nlohmann::ordered_json::parse(experimentJson, nullptr, false, true);
    if (experiment.is_discarded() || !experiment.is_object() || !experiment.contains("data") ||
        !experiment["data"].is_object() || !experiment["data"].contains("path") ||
        !experiment["data"]["path"].is_string())
        return experimentJson;
    const std::filesystem::path dataPath(experiment["data"]["path"].get<std::string>());
    if (dataPath.empty() || dataPath.is_absolute())
        return experimentJson;
    std::error_code ignored;
    experiment["data"]["path"] =
        std::filesystem::absolute(std::filesystem::path(directory) / dataPath, ignored)
            .lexically_normal()
            .string();
    return experiment.dump(2);
}

} // namespace tunelab::json_file
