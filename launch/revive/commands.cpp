#include "launch/revive/command.h"

namespace revive::cli {

Command info_command();

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {info_command()};
  return all;
}

}  // namespace revive::cli
