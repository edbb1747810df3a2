// What every `kehu` subcommand needs: the replica, the output mode, the language.
#pragma once

#include <memory>
#include <string>

#include "kehu/replica.h"
#include "kehu/schema.h"

namespace kehu::cli {

struct Context {
  std::string db_path;    // --db, KEHU_DB, or ~/.kehu/replica.db
  std::string key_file;   // --key-file
  bool json = false;      // --json
  bool utc = false;       // --utc: times in UTC instead of the local time zone
  bool wide = false;      // --wide: tables show every cell whole, whatever the terminal's width
  Lang lang = Lang::en;   // KEHU_LANG, else the locale

  // Opens the replica once (asking for the passphrase if needed) and returns it.
  Replica& replica();
  // The open replica's schema (built-in plus its custom fields); the built-in
  // one while no replica is open.
  const Schema& schema() const { return replica_ ? replica_->schema() : Schema::builtin(); }
  // The role of the open replica's last login ("" while none is open or logged in).
  std::string role() const { return replica_ ? replica_->meta("role") : std::string(); }
  // The passphrase: KEHU_PASSPHRASE, the key file, or a prompt without echo.
  std::string passphrase(const std::string& prompt, bool confirm = false) const;

 private:
  std::unique_ptr<Replica> replica_;
};

// Resolves the defaults from the environment (KEHU_DB; the language by
// lang_from_environment, which also becomes the message language).
void apply_environment(Context& ctx);

// Reads a line from the terminal without echo (termios). Throws Error(usage)
// when there is no terminal to ask on.
std::string prompt_secret(const std::string& prompt);

}  // namespace kehu::cli
