#include "kehu/collate.h"

#include <unicode/coll.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <memory>

namespace kehu {
namespace {

std::unique_ptr<icu::Collator> make_pinyin_collator() {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::Collator> c(icu::Collator::createInstance(icu::Locale("zh", "CN"), status));
  if (U_FAILURE(status)) return nullptr;
  return c;
}

}  // namespace

std::string pinyin_sort_key(std::string_view utf8) {
  // A collator is not safe to share between threads; one per thread, made once.
  thread_local const std::unique_ptr<icu::Collator> collator = make_pinyin_collator();
  if (!collator) return std::string(utf8);
  const icu::UnicodeString text =
      icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  const int32_t n = collator->getSortKey(text, nullptr, 0);
  std::string key(static_cast<std::size_t>(n), '\0');
  collator->getSortKey(text, reinterpret_cast<uint8_t*>(key.data()), n);
  if (!key.empty() && key.back() == '\0') key.pop_back();  // ICU ends the key with a 0 byte
  return key;
}

}  // namespace kehu
