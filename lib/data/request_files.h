#pragma once
// One entry point for every request file format, for the CLI and the runner.
// kAuto picks the format from the file: a ".jsonl" name, a text that is no
// single JSON document but whose first non-blank line is a JSON object, or one
// object with JSONL's "prompt_template", is REVIVE's JSONL; otherwise the first record of the JSON list
// that tells decides (a "requested_rewrite" key: ROME CounterFact; "prompt"
// with "ground_truth" or "target_new": EasyEdit CounterFact; "src" and "alt":
// zsRE). An empty list reads as no requests.
#include <string>

#include "lib/data/read_options.h"
#include "lib/data/zsre.h"

namespace revive::data {

enum class RequestFormat { kAuto, kCounterFactRome, kCounterFactEasyEdit, kZsre, kJsonl };

// Names used on the command line: auto, counterfact, counterfact-easyedit, zsre, jsonl.
// An unknown name is an InputError naming `option` (the CLI's flag).
RequestFormat parse_request_format(const std::string& name, const std::string& option = "--request-format");
std::string to_string(RequestFormat format);

// The concrete format of `file` (never kAuto); InputError when it cannot tell.
RequestFormat detect_request_format(const std::string& file);

struct RequestFileOptions {
  RequestFormat format = RequestFormat::kAuto;
  ReadOptions read;
  ZsreTarget zsre_target = ZsreTarget::kAlt;
};

// The file is read and parsed once, detection included; `format_read`, when
// given, receives the concrete format.
ReadResult read_requests(const std::string& file, const RequestFileOptions& options = {},
                         RequestFormat* format_read = nullptr);

}  // namespace revive::data
