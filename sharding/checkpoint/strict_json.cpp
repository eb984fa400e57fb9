#include "sharding/checkpoint/strict_json.h"

#include <set>
#include <vector>

namespace revive::sharding {

using nlohmann::json;

namespace {

// One open object or array while parsing: enough to name the path of a problem.
struct JsonFrame {
  bool array = false;
  std::size_t next = 0;        // array: elements entered so far
  std::string key;             // object: the key whose value is being read
  std::set<std::string> keys;  // object: keys seen so far
};

// The JSON path of the value being read, from frame `from` down ("[3].a.b" from
// 0; "a.b", the path inside the top-level list's element, from 1).
std::string frames_path(const std::vector<JsonFrame>& frames, std::size_t from = 0) {
  std::string path;
  for (std::size_t i = from; i < frames.size(); ++i) {
    const JsonFrame& f = frames[i];
    if (f.array) {
      path += "[" + std::to_string(f.next - 1) + "]";
    } else {
      path += (path.empty() ? "" : ".") + f.key;
    }
  }
  return path;
}

}  // namespace

StrictJson parse_json_strict(std::string_view text, int max_depth, bool isolate_list_elements) {
  StrictJson out;
  std::vector<JsonFrame> frames;
  auto fail = [&](std::string path, std::string what) {
    out.error_path = std::move(path);
    out.error = std::move(what);
  };
  // A value (scalar or container) starts: inside an array it is the next element.
  auto enter_value = [&] {
    if (!frames.empty() && frames.back().array) ++frames.back().next;
  };
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    if (!out.ok()) return false;  // the first problem is the one reported
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        enter_value();
        if (max_depth > 0 && frames.size() >= static_cast<std::size_t>(max_depth)) {
          fail(frames_path(frames), "nested deeper than " + std::to_string(max_depth) + " levels");
          return false;
        }
        frames.emplace_back();
        frames.back().array = event == json::parse_event_t::array_start;
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames.pop_back();
        break;
      case json::parse_event_t::key: {
        JsonFrame& object = frames.back();
        object.key = parsed.get<std::string>();
        if (!object.keys.insert(object.key).second) {
          const std::string what = "duplicate key \"" + object.key + "\"";
          if (isolate_list_elements && frames.size() >= 2 && frames.front().array) {
            out.element_problems.emplace(frames.front().next - 1, JsonElementProblem{frames_path(frames, 1), what});
            break;
          }
          fail(frames_path(frames), what);
          return false;
        }
        break;
      }
      case json::parse_event_t::value:
        enter_value();
        break;
    }
    return true;
  };
  try {
    out.value = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number too large for a double
    if (out.ok()) fail("", std::string("not valid JSON: ") + e.what());
  }
  if (!out.ok()) out.value = nullptr;
  return out;
}

}  // namespace revive::sharding
