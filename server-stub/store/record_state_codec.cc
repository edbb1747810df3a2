#include "record_state_codec.h"

#include "kehu/error.h"

namespace kehu::server {

namespace {

void append_quoted(std::string& out, const std::string& s) { out += json(s).dump(); }

}  // namespace

std::string encode_field_versions(const std::map<std::string, sync::FieldVersion>& fields) {
  std::string out = "{";
  for (const auto& [key, fv] : fields) {
    if (out.size() > 1) out += ',';
    append_quoted(out, key);
    out += R"(:{"author":)";
    append_quoted(out, fv.author);
    out += R"(,"device":)";
    append_quoted(out, fv.device);
    out += R"(,"device_seq":)" + std::to_string(fv.device_seq) + R"(,"hlc":)" +
           std::to_string(fv.hlc) + R"(,"rev":)" + std::to_string(fv.rev) + R"(,"value":)" +
           fv.value.dump() + "}";
  }
  out += '}';
  return out;
}

std::map<std::string, sync::FieldVersion> decode_field_versions(const json& j) {
  if (!j.is_object()) throw Error(Errc::storage, "stored record state is not a JSON object");
  std::map<std::string, sync::FieldVersion> out;
  try {
    for (const auto& [key, v] : j.items()) {
      sync::FieldVersion fv;
      fv.value = v.at("value");
      fv.rev = v.at("rev").get<std::int64_t>();
      fv.hlc = v.at("hlc").get<std::int64_t>();
      fv.device = v.at("device").get<std::string>();
      fv.device_seq = v.at("device_seq").get<std::int64_t>();
      fv.author = v.at("author").get<std::string>();
      out.emplace(key, std::move(fv));
    }
  } catch (const json::exception& e) {
    throw Error(Errc::storage, std::string("stored record state is damaged: ") + e.what());
  }
  return out;
}

json parse_stored(const std::string& text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(Errc::storage, std::string("stored ") + what + " is not JSON: " + e.what());
  }
}

std::vector<std::string> split_regions(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join_regions(const std::vector<std::string>& regions) {
  std::string out;
  for (const auto& r : regions) {
    if (!out.empty()) out += '\n';
    out += r;
  }
  return out;
}

}  // namespace kehu::server
