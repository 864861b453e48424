#pragma once

// Helpers shared by the engine's JSON file readers (study and race files); not a public header.

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tunelab::json_file {

// A JSON value as text for an error message, cut to 40 characters.
std::string describe(const nlohmann::json& value);

// The folder part of a path, "." when it has none.
std::string directoryOf(const std::string& path);

// A relative path as seen from `baseDirectory`; absolute paths and "." leave it as it is.
std::string resolvePath(const std::string& path, const std::string& baseDirectory);

// The whole file (a regular file of at most kMaxJsonFileBytes), or why not.
Result<std::string> readFile(const std::string& path);

// A study or race file: read, then `parse(text, folderOfThePath)`; each error names the file.
template <typename T, typename Parse> Result<T> loadFile(const std::string& path, Parse parse) {
    auto read = readFile(path);
    if (!read.ok())
        return Result<T>(Errors{read.errors()});
    Result<T> parsed = parse(read.value(), directoryOf(path));
    if (parsed.ok())
        return parsed;
    std::vector<std::string> messages;
    for (const auto& message : parsed.errors())
        messages.push_back(path + ": " + message);
    return Result<T>(Errors{messages});
}

// One error per key of `object` not in `known`, with the closest known key as a suggestion.
void rejectUnknownKeys(const nlohmann::json& object, const std::string& where,
                       const std::vector<std::string>& known, std::vector<std::string>& errors);

// An inline object or a path to a JSON file, as text. `directory` becomes the folder that relative
// paths inside it are relative to: the including file's for an inline object, else the named file's.
bool readInlineOrFile(const nlohmann::json& root, const std::string& key, const std::string& baseDirectory,
                      std::string& text, std::string& directory, std::vector<std::string>& errors);

// A stored experiment must not depend on the folder it is later run from: a relative data path
// becomes absolute, resolved against the folder the experiment came from.
std::string withAbsoluteDataPath(const std::string& experimentJson, const std::string& directory);

} // namespace tunelab::json_file
