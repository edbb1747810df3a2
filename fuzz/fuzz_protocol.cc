// The wire decoders a client or server runs on JSON from the other side. Their
// contract: a malformed change, revision or conflict is Error(protocol), never
// another exception, a crash or undefined behaviour. Any other exception escapes
// and libFuzzer reports it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kehu/error.h"
#include "kehu/record.h"

namespace {

template <typename F>
void decode(F&& fn) {
  try {
    fn();
  } catch (const kehu::Error&) {
  }
}

void decode_all(const kehu::json& j) {
  decode([&] { (void)kehu::change_from_json(j); });
  decode([&] { (void)kehu::revision_from_json(j); });
  decode([&] { (void)kehu::conflict_from_json(j); });
  decode([&] { (void)kehu::field_changes_from_json(j); });
  // A decoded value encodes again, and decodes to the same encoding.
  try {
    const kehu::Change c = kehu::change_from_json(j);
    const kehu::json once = kehu::to_json(c);
    if (kehu::to_json(kehu::change_from_json(once)) != once) __builtin_trap();
  } catch (const kehu::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const kehu::json j = kehu::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  decode_all(j);
  // The shapes a pull answer carries them in.
  if (j.is_object()) {
    for (const char* key : {"changes", "revisions", "conflicts", "records"}) {
      auto it = j.find(key);
      if (it != j.end() && it->is_array()) {
        for (const auto& e : *it) decode_all(e);
      }
    }
  }
  return 0;
}
