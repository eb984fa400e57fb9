#pragma once
// The check most error tests make: a call must throw revive::InputError naming
// a file and a field, with a given phrase in its message (any message when
// `what` is empty).
#include <gtest/gtest.h>

#include <string>

#include "sharding/errors.h"

namespace revive::testing {

template <class Call>
void expect_input_error(Call&& call, const std::string& file, const std::string& field, const std::string& what = "") {
  try {
    call();
    ADD_FAILURE() << file << " accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), file);
    EXPECT_EQ(e.field(), field);
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

}  // namespace revive::testing
