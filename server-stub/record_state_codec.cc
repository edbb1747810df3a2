#include "record_state_codec.h"

#include "kehu/error.h"

namespace kehu::server {

json encode_field_versions(const std::map<std::string, sync::FieldVersion>& fields) {
  json out = json::object();
  for (const auto& [key, fv] : fields) {
    out[key] = {{"value", fv.value}, {"rev", fv.rev},       {"hlc", fv.hlc},
                {"device", fv.device}, {"device_seq", fv.device_seq}, {"author", fv.author}};
  }
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

}  // namespace kehu::server
