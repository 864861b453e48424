#include "store/store_location.h"

#include "store/postgres_connection.h"

namespace tunelab {

namespace {

bool startsWith(const std::string& text, const char* prefix) {
    return text.rfind(prefix, 0) == 0;
}

} // namespace

bool isServerLocation(const std::string& location) {
    return startsWith(location, "postgresql://") || startsWith(location, "postgres://");
}

std::string sqliteFilePath(const std::string& location) {
    constexpr const char* kScheme = "sqlite:///";
    return startsWith(location, kScheme) ? location.substr(std::char_traits<char>::length(kScheme))
                                         : location;
}

std::string displayedLocation(const std::string& location) {
    return isServerLocation(location) ? sql::redactedUrl(location) : location;
}

} // namespace tunelab
