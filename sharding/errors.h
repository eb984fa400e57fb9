#pragma once
// REVIVE's exception types. Every error says where it came from: a file and
// field for bad input, a rank/group/operation for communication failures.
#include <stdexcept>
#include <string>

namespace revive {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad user input: a file, a field of it, and what is wrong.
class InputError : public Error {
 public:
  InputError(const std::string& file, const std::string& field, const std::string& what)
      : Error(file + ": " + (field.empty() ? std::string() : field + ": ") + what),
        file_(file), field_(field) {}
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }

 private:
  std::string file_, field_;
};

// A collective or communication library call that failed.
class CommError : public Error {
 public:
  CommError(int rank, const std::string& group, const std::string& op, const std::string& what)
      : Error("rank " + std::to_string(rank) + " [" + group + "] " + op + ": " + what),
        rank_(rank), group_(group), op_(op) {}
  int rank() const { return rank_; }
  const std::string& group() const { return group_; }
  const std::string& op() const { return op_; }

 private:
  int rank_;
  std::string group_, op_;
};

}  // namespace revive

#define REVIVE_STRINGIFY_(x) #x
#define REVIVE_STRINGIFY(x) REVIVE_STRINGIFY_(x)
#define REVIVE_WHERE __FILE__ ":" REVIVE_STRINGIFY(__LINE__)

// Precondition check that throws revive::Error with the location.
#define REVIVE_CHECK(cond, msg)                                                  \
  do {                                                                            \
    if (!(cond)) {                                                                \
      throw ::revive::Error(std::string(msg) + " (" REVIVE_WHERE ": " #cond ")"); \
    }                                                                             \
  } while (0)
