// The language people read: the CLI's KEHU_LANG (else the locale), the
// server's Accept-Language per request.
//
// Messages meant for people (errors, summaries, prompts) are written in both
// languages where they are made, tr("English", "中文"), and come out in the
// language of the thread that makes them. The CLI sets it once at start; the
// server sets it for each request it serves, so one thread never mixes two
// users' languages. JSON keys and error codes never change with it.
#pragma once

#include <string>
#include <utility>

namespace kehu {

enum class Lang { zh, en };

// This thread's message language (English until set).
Lang message_lang() noexcept;
void set_message_lang(Lang lang) noexcept;

// `en` or `zh`, whichever the thread's message language is.
inline std::string tr(std::string en, std::string zh) {
  return message_lang() == Lang::zh ? std::move(zh) : std::move(en);
}

// A message kept to be read later, such as why the server refused an edit in
// the change log: both texts, packed, so that whoever reads it reads it in
// their language then, not in the language of the sync that received it
// (walkthrough 17, R17-3). in_message_lang() unpacks; any other text is
// returned as it is.
std::string in_both(const std::string& en, const std::string& zh);
std::string in_message_lang(const std::string& kept);

// Sets the thread's message language for a scope (a server request) and puts
// the old one back after.
class MessageLangScope {
 public:
  explicit MessageLangScope(Lang lang) noexcept : old_(message_lang()) { set_message_lang(lang); }
  ~MessageLangScope() { set_message_lang(old_); }
  MessageLangScope(const MessageLangScope&) = delete;
  MessageLangScope& operator=(const MessageLangScope&) = delete;

 private:
  Lang old_;
};

// The language of a program run by a person: KEHU_LANG (zh or en), else the
// locale's (LC_ALL, LC_MESSAGES, LANG). A KEHU_LANG that is neither falls back
// to the locale and is said on stderr when `warn`, not silently ignored.
Lang lang_from_environment(bool warn);

// The language an HTTP Accept-Language header asks for: zh when Chinese is
// asked for at least as strongly as English (by q-value), else en.
Lang lang_from_accept_language(const std::string& header);

}  // namespace kehu
