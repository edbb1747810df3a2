#include "record_state_codec.h"

#include "kehu/error.h"

namespace kehu::server {

namespace {

void append_quoted(std::string& out, const std::string& s) { out += json(s).dump(); }

// Rare (tags fields, concurrent writes of one value, open conflicts), so
// through a json tree.
json write_json(const sync::Write& w) {
  return {{"rev", w.rev}, {"hlc", w.hlc}, {"device", w.device}, {"device_seq", w.device_seq}, {"author", w.author}};
}

json also_json(const std::vector<sync::Write>& also) {
  json out = json::array();
  for (const auto& w : also) out.push_back(write_json(w));
  return out;
}

sync::Write write_from(const json& j) {
  return sync::Write{j.at("rev").get<std::int64_t>(), j.at("hlc").get<std::int64_t>(),
                     j.at("device").get<std::string>(), j.at("device_seq").get<std::int64_t>(),
                     j.at("author").get<std::string>()};
}

std::vector<sync::Write> also_from(const json& j) {
  std::vector<sync::Write> out;
  if (auto a = j.find("also"); a != j.end()) {
    for (const auto& w : *a) out.push_back(write_from(w));
  }
  return out;
}

json members_json(const std::map<std::string, sync::MemberVersion>& members) {
  json out = json::object();
  for (const auto& [tag, mv] : members) {
    json m = write_json(sync::Write{mv.rev, mv.hlc, mv.device, mv.device_seq, mv.author});
    m["present"] = mv.present;
    if (!mv.also.empty()) m["also"] = also_json(mv.also);
    out[tag] = std::move(m);
  }
  return out;
}

json open_json(const std::vector<sync::Unsettled>& open) {
  json out = json::array();
  for (const auto& u : open) {
    json j = {{"rev", u.rev}, {"lost_rev", u.lost_rev}, {"conflict", to_json(u.conflict)}};
    if (u.hidden) j["hidden"] = true;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

std::string encode_field_versions(const std::map<std::string, sync::FieldVersion>& fields,
                                  const std::string& merged_into, std::int64_t merged_rev) {
  std::string out = "{";
  if (!merged_into.empty()) out += R"("@merged_into":)" + json{{"id", merged_into}, {"rev", merged_rev}}.dump();
  for (const auto& [key, fv] : fields) {
    if (out.size() > 1) out += ',';
    append_quoted(out, key);
    out += R"(:{)";
    if (!fv.also.empty()) out += R"("also":)" + also_json(fv.also).dump() + ',';
    out += R"("author":)";
    append_quoted(out, fv.author);
    out += R"(,"device":)";
    append_quoted(out, fv.device);
    out += R"(,"device_seq":)" + std::to_string(fv.device_seq) + R"(,"hlc":)" +
           std::to_string(fv.hlc);
    if (!fv.members.empty()) out += R"(,"members":)" + members_json(fv.members).dump();
    if (!fv.open.empty()) out += R"(,"open":)" + open_json(fv.open).dump();
    out += R"(,"rev":)" + std::to_string(fv.rev) + R"(,"value":)" + fv.value.dump() + "}";
  }
  out += '}';
  return out;
}

std::map<std::string, sync::FieldVersion> decode_field_versions(const json& j, std::string* merged_into,
                                                                std::int64_t* merged_rev) {
  if (!j.is_object()) throw Error(Errc::storage, "stored record state is not a JSON object");
  std::map<std::string, sync::FieldVersion> out;
  try {
    for (const auto& [key, v] : j.items()) {
      if (key == "@merged_into") {
        if (merged_into) *merged_into = v.at("id").get<std::string>();
        if (merged_rev) *merged_rev = v.at("rev").get<std::int64_t>();
        continue;
      }
      sync::FieldVersion fv;
      fv.value = v.at("value");
      fv.rev = v.at("rev").get<std::int64_t>();
      fv.hlc = v.at("hlc").get<std::int64_t>();
      fv.device = v.at("device").get<std::string>();
      fv.device_seq = v.at("device_seq").get<std::int64_t>();
      fv.author = v.at("author").get<std::string>();
      fv.also = also_from(v);
      if (auto m = v.find("members"); m != v.end()) {
        for (const auto& [tag, mj] : m->items()) {
          sync::MemberVersion& mv = fv.members[tag];
          const sync::Write w = write_from(mj);
          mv.present = mj.at("present").get<bool>();
          mv.rev = w.rev;
          mv.hlc = w.hlc;
          mv.device = w.device;
          mv.device_seq = w.device_seq;
          mv.author = w.author;
          mv.also = also_from(mj);
        }
      }
      if (auto o = v.find("open"); o != v.end()) {
        for (const auto& uj : *o) {
          fv.open.push_back(sync::Unsettled{uj.at("rev").get<std::int64_t>(), uj.at("lost_rev").get<std::int64_t>(),
                                            conflict_from_json(uj.at("conflict")), uj.value("hidden", false)});
        }
      }
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
