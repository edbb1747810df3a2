// Small helpers shared by the unit tests.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "kehu/error.h"

namespace kehu::test {

// Runs `fn`, which must throw kehu::Error(validation), and returns its message.
template <typename Fn>
std::string validation_message(Fn fn) {
  try {
    fn();
  } catch (const kehu::Error& e) {
    CHECK(e.code() == kehu::Errc::validation);
    return e.what();
  }
  FAIL("expected kehu::Error(validation)");
  return "";
}

}  // namespace kehu::test
