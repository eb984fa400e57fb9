#include <algorithm>

#include "launch/revive/command.h"

namespace revive::cli {

namespace {
// Function-local static: registrars in other files may run before this file's
// statics are initialised.
std::vector<Command>& registry() {
  static std::vector<Command> all;
  return all;
}
}  // namespace

CommandRegistrar::CommandRegistrar(Command (*make)()) {
  registry().push_back(make());
  std::sort(registry().begin(), registry().end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
}

const std::vector<Command>& commands() { return registry(); }

}  // namespace revive::cli
